"""Each data validation check on a small dataset written to tmp_path with PIL."""

from __future__ import annotations

import hashlib
import shutil

import imagehash
import numpy as np
import pytest
from PIL import Image

from multiclass_segmentation.config.data_validation import CheckSeverities
from multiclass_segmentation.pipelines.data_validation.nodes import (
    DataValidationError,
    build_validated_split,
    check_report,
    inspect_split,
    render_report_markdown,
)
from tests.pipelines.data_validation.builders import (
    CLASSES,
    PARAMS,
    SIZE,
    files_of,
    findings_of,
    image_path,
    label_mask,
    load_split,
    mask_path,
    picture,
    validate,
    write_good_dataset,
    write_image,
)


@pytest.fixture
def root(tmp_path):
    return write_good_dataset(tmp_path / "dataset")


def test_good_dataset_has_no_findings_and_every_pair_validated(root):
    report, pairs = validate(root)

    assert report["passed"] is True
    assert report["findings"] == []
    assert report["summary"]["train"] == {
        "images": 3,
        "masks": 3,
        "images_without_masks": 0,
        "masks_without_images": 0,
        "complete_pairs": 3,
        "validated_pairs": 3,
        "masks_background_only": 0,
        "masks_one_class": 3,
        "masks_several_classes": 0,
        "masks_with_class": {"cat": 2, "dog": 1},
    }
    assert list(pairs["val"]) == ["val_0", "val_1"]
    assert [image.shape for image, _ in pairs["val"].values()] == [(SIZE, SIZE, 3)] * 2
    assert all(image.dtype == np.uint8 for image, _ in pairs["val"].values())
    np.testing.assert_array_equal(pairs["val"]["val_1"][1], label_mask(2))


def test_the_manifest_lists_each_usable_pair_with_its_paths_and_facts(root):
    inspection = inspect_split(*load_split(root, "val"), CLASSES)

    manifest = build_validated_split(inspection, True, CLASSES, "val")

    square = (SIZE // 2) ** 2  # label_mask's square covers the middle half of each side
    assert manifest.to_dict("records") == [
        {
            "id": f"val_{index}",
            "image": f"img/val/val_{index}.jpg",
            "mask": f"labels/val/val_{index}.png",
            "height": SIZE,
            "width": SIZE,
            "image_mode": "RGB",
            "image_format": "JPEG",
            "image_sha256": manifest["image_sha256"][index],
            "pixels_background": SIZE * SIZE - square,
            "pixels_cat": square if index == 0 else 0,
            "pixels_dog": square if index == 1 else 0,
            "ignore_pixels": 0,
        }
        for index in range(2)
    ]
    decoded = np.asarray(Image.open(image_path(root, "val", "val_0.jpg")))
    expected_hash = hashlib.sha256(decoded.tobytes() + str(decoded.shape).encode()).hexdigest()
    assert manifest["image_sha256"][0] == expected_hash


def test_pairing_reports_images_without_masks_and_masks_without_images(root):
    mask_path(root, "train", "train_0.png").unlink()
    write_image(mask_path(root, "val", "orphan.png"), label_mask(1))

    report, pairs = validate(root)

    assert files_of(report, "image_without_mask") == ["img/train/train_0.jpg"]
    assert files_of(report, "mask_without_image") == ["labels/val/orphan.png"]
    assert {finding["severity"] for finding in report["findings"]} == {"error"}
    train, val = report["summary"]["train"], report["summary"]["val"]
    assert (train["images"], train["masks"], train["images_without_masks"]) == (3, 2, 1)
    assert (train["complete_pairs"], val["masks_without_images"], val["complete_pairs"]) == (
        2,
        1,
        2,
    )
    assert sorted(pairs["train"]) == ["train_1", "train_2"]


def test_unreadable_and_truncated_files_become_findings_not_exceptions(root):
    truncated = image_path(root, "train", "train_0.jpg")
    truncated.write_bytes(truncated.read_bytes()[:300])
    mask_path(root, "val", "val_1.png").write_bytes(b"not an image at all")

    report, pairs = validate(root)

    unreadable = findings_of(report, "unreadable_file")
    assert [finding["files"] for finding in unreadable] == [
        ["img/train/train_0.jpg"],
        ["labels/val/val_1.png"],
    ]
    assert "OSError" in unreadable[0]["message"]
    assert "UnidentifiedImageError" in unreadable[1]["message"]
    assert unreadable[0]["severity"] == "error"
    assert "train_0" not in pairs["train"]
    assert "val_1" not in pairs["val"]


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_content_that_is_not_what_the_extension_says(root, image_format):
    write_image(image_path(root, "test", "test_0.jpg"), picture(100), format=image_format)

    report, pairs = validate(root)

    [finding] = findings_of(report, "extension_mismatch")
    assert finding["files"] == ["img/test/test_0.jpg"]
    assert finding["message"] == f"is a {image_format} file named .jpg"
    assert finding["severity"] == "warning"
    assert pairs["test"]["test_0"][0].shape == (SIZE, SIZE, 3)


def test_safe_image_modes_are_converted_to_rgb_and_reported(root):
    rgb = picture(100)
    write_image(image_path(root, "train", "train_0.jpg"), Image.fromarray(rgb).convert("L"))
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)
    write_image(image_path(root, "train", "train_1.png"), palette)
    write_image(image_path(root, "train", "train_2.png"), Image.fromarray(rgb).convert("RGBA"))
    (image_path(root, "train", "train_1.jpg")).unlink()
    (image_path(root, "train", "train_2.jpg")).unlink()

    report, pairs = validate(root)

    converted = findings_of(report, "image_mode_converted")
    assert [(finding["files"], finding["message"]) for finding in converted] == [
        (["img/train/train_0.jpg"], "mode L converted to RGB"),
        (["img/train/train_1.png"], "mode P converted to RGB"),
        (["img/train/train_2.png"], "mode RGBA (fully opaque) converted to RGB"),
    ]
    assert {finding["severity"] for finding in converted} == {"warning"}
    assert report["passed"] is True
    gray = pairs["train"]["train_0"][0]
    assert gray.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])
    np.testing.assert_array_equal(pairs["train"]["train_2"][0], rgb)
    np.testing.assert_array_equal(pairs["train"]["train_1"][0], np.array(palette.convert("RGB")))


def test_transparent_rgba_is_reported_and_converted_by_dropping_alpha(root):
    rgba = np.dstack([picture(100), np.full((SIZE, SIZE), 255, dtype=np.uint8)])
    rgba[: SIZE // 2, :, 3] = 0
    image_path(root, "val", "val_0.jpg").unlink()
    write_image(image_path(root, "val", "val_0.png"), rgba)

    report, pairs = validate(root)

    [finding] = findings_of(report, "image_transparency_dropped")
    assert finding["files"] == ["img/val/val_0.png"]
    assert "50% transparent pixels" in finding["message"]
    assert "dropping the alpha channel" in finding["message"]
    np.testing.assert_array_equal(pairs["val"]["val_0"][0], rgba[..., :3])


def test_image_mode_without_safe_rgb_conversion_is_an_error(root):
    floats = Image.fromarray(np.full((SIZE, SIZE), 0.5, dtype=np.float32))
    image_path(root, "test", "test_1.jpg").unlink()
    write_image(image_path(root, "test", "test_1.tif"), floats)

    report, pairs = validate(root)

    [finding] = findings_of(report, "image_mode_unsupported")
    assert finding["severity"] == "error"
    assert finding["files"] == ["img/test/test_1.tif"]
    assert "mode F" in finding["message"]
    assert "test_1" not in pairs["test"]


def test_sixteen_bit_images_are_scaled_to_eight_bits(root):
    sixteen_bit = Image.fromarray(np.full((SIZE, SIZE), 257 * 156, dtype=np.uint16))
    image_path(root, "test", "test_1.jpg").unlink()
    write_image(image_path(root, "test", "test_1.png"), sixteen_bit)

    report, pairs = validate(root)

    [finding] = findings_of(report, "image_mode_converted")
    assert finding["files"] == ["img/test/test_1.png"]
    assert "scaled to 8 bits" in finding["message"]
    np.testing.assert_array_equal(pairs["test"]["test_1"][0], np.full((SIZE, SIZE, 3), 156))


def test_mask_problems(root):
    write_image(mask_path(root, "train", "train_0.png"), np.dstack([label_mask(1)] * 3))
    write_image(mask_path(root, "train", "train_1.png"), label_mask(1, size=SIZE // 2))
    out_of_range = label_mask(2)
    out_of_range[0, :4] = [3, 7, 255, 255]
    write_image(mask_path(root, "train", "train_2.png"), out_of_range)
    write_image(mask_path(root, "val", "val_0.png"), np.zeros((SIZE, SIZE), dtype=np.uint8))
    several = label_mask(1)
    several[:2] = 2
    write_image(mask_path(root, "val", "val_1.png"), several)

    report, pairs = validate(root)

    assert files_of(report, "mask_mode") == ["labels/train/train_0.png"]
    assert files_of(report, "mask_size_mismatch") == [
        "img/train/train_1.jpg",
        "labels/train/train_1.png",
    ]
    assert findings_of(report, "mask_size_mismatch")[0]["message"].startswith(
        "mask is 16x16 but its image is 32x32"
    )
    [out_of_range_finding] = findings_of(report, "mask_values_out_of_range")
    assert out_of_range_finding["files"] == ["labels/train/train_2.png"]
    assert out_of_range_finding["message"].startswith("values 3, 7 on")
    [background_only] = findings_of(report, "mask_background_only")
    assert background_only["files"] == ["labels/val/val_0.png"]
    assert background_only["severity"] == "warning"
    assert pairs["train"] == {}
    val = report["summary"]["val"]
    assert (val["masks_background_only"], val["masks_one_class"], val["masks_several_classes"]) == (
        1,
        0,
        1,
    )
    assert val["masks_with_class"] == {"cat": 1, "dog": 1}


def test_palette_mask_and_ignore_value_are_accepted(root):
    mask = label_mask(2)
    mask[0] = 255
    palette_mask = Image.fromarray(mask, mode="L").convert("P")
    write_image(mask_path(root, "test", "test_0.png"), palette_mask)

    report, pairs = validate(root)

    assert report["findings"] == []
    np.testing.assert_array_equal(pairs["test"]["test_0"][1], np.array(palette_mask))


def test_stem_collision_leaves_the_pair_out(root):
    write_image(image_path(root, "train", "train_0.png"), picture(100))

    report, pairs = validate(root)

    [finding] = findings_of(report, "stem_collision")
    assert finding["files"] == ["img/train/train_0.jpg", "img/train/train_0.png"]
    assert "train_0" not in pairs["train"]


def test_duplicates_within_and_across_splits(root):
    # Within train: an identical copy (masks agree) and a brightened copy (masks disagree).
    shutil.copy(image_path(root, "train", "train_0.jpg"), image_path(root, "train", "copy.jpg"))
    shutil.copy(mask_path(root, "train", "train_0.png"), mask_path(root, "train", "copy.png"))
    brighter = np.clip(picture(1).astype(int) + 6, 0, 255).astype(np.uint8)
    write_image(image_path(root, "train", "brighter.png"), brighter)
    write_image(mask_path(root, "train", "brighter.png"), label_mask(1))
    # Across splits: val_0's picture again in test.
    shutil.copy(image_path(root, "val", "val_0.jpg"), image_path(root, "test", "leak.jpg"))
    shutil.copy(mask_path(root, "val", "val_0.png"), mask_path(root, "test", "leak.png"))

    report, _ = validate(root)

    [identical] = findings_of(report, "duplicate_images")
    assert (identical["split"], identical["severity"]) == ("train", "warning")
    assert sorted(identical["files"]) == ["img/train/copy.jpg", "img/train/train_0.jpg"]
    [near] = findings_of(report, "near_duplicate_images")
    assert sorted(near["files"]) == ["img/train/brighter.png", "img/train/train_1.jpg"]
    [leak] = findings_of(report, "duplicate_images_across_splits")
    assert (leak["split"], leak["severity"]) == ("val+test", "error")
    assert leak["files"] == ["img/val/val_0.jpg", "img/test/leak.jpg"]
    [disagree] = findings_of(report, "duplicate_masks_disagree")
    assert sorted(disagree["files"]) == ["labels/train/brighter.png", "labels/train/train_1.png"]
    assert "classes {cat} vs {dog}" in disagree["message"]


def test_near_duplicate_distance_is_a_parameter(root):
    first, second = (
        imagehash.phash(Image.open(image_path(root, "train", name)).convert("RGB"))
        for name in ("train_0.jpg", "train_1.jpg")
    )
    distance = first - second

    def near_duplicates(max_distance: int) -> bool:
        params = PARAMS.model_copy(update={"near_duplicate_max_distance": max_distance})
        report, _ = validate(root, params)
        pair = {"img/train/train_0.jpg", "img/train/train_1.jpg"}
        near = [f for f in report["findings"] if f["check"].startswith("near_duplicate_images")]
        return any(pair <= set(finding["files"]) for finding in near)

    assert distance > PARAMS.near_duplicate_max_distance
    assert near_duplicates(distance)
    assert not near_duplicates(distance - 1)


def test_severity_is_configurable_per_check(root):
    mask_path(root, "train", "train_0.png").unlink()
    write_image(mask_path(root, "val", "val_0.png"), np.zeros((SIZE, SIZE), dtype=np.uint8))
    severity = CheckSeverities(image_without_mask="warning", mask_background_only="ignore")
    params = PARAMS.model_copy(update={"severity": severity})

    report, _ = validate(root, params)

    assert findings_of(report, "image_without_mask")[0]["severity"] == "warning"
    assert findings_of(report, "mask_background_only") == []
    assert (report["passed"], report["errors"], report["warnings"]) == (True, 0, 1)


def _dataset_with_errors(root):
    for index in range(2):
        mask_path(root, "train", f"train_{index}.png").unlink()
    write_image(image_path(root, "train", "extra.jpg"), picture(100))
    write_image(mask_path(root, "val", "val_0.png"), np.full((SIZE, SIZE), 9, dtype=np.uint8))
    write_image(mask_path(root, "test", "test_0.png"), np.zeros((SIZE, SIZE), dtype=np.uint8))
    return validate(root, PARAMS.model_copy(update={"files_listed": 2}))[0]


def test_markdown_report_has_the_summary_and_findings_grouped_by_severity(root):
    report = _dataset_with_errors(root)

    markdown = render_report_markdown(report, PARAMS.model_copy(update={"files_listed": 2}))

    assert "**failed** with 4 error(s) and 1 warning(s)" in markdown
    assert "| train | 4 | 1 | 3 | 0 | 1 | 1 |" in markdown
    assert "| test | 1 | 1 | 0 | 0 | 1 |" in markdown
    errors, warnings = markdown.split("## Errors")[1].split("## Warnings")
    assert (
        "- **image_without_mask**: 3 finding(s), 3 file(s): img/train/extra.jpg, "
        "img/train/train_0.jpg and 1 more. First: has no mask of the same name" in errors
    )
    assert "- **mask_values_out_of_range**: 1 finding(s), 1 file(s): labels/val/val_0.png" in errors
    assert "- **mask_background_only**: 1 finding(s)" in warnings


def test_gate_raises_one_clear_error_naming_checks_files_and_report(root):
    report = _dataset_with_errors(root)

    with pytest.raises(DataValidationError) as raised:
        check_report(report, "", PARAMS.model_copy(update={"files_listed": 2}))

    message = str(raised.value)
    assert "failed 2 check(s)" in message
    assert "data/08_reporting/data_validation.md" in message
    assert (
        "image_without_mask: 3 file(s): img/train/extra.jpg, img/train/train_0.jpg and 1 more"
        in message
    )
    assert "mask_values_out_of_range: 1 file(s): labels/val/val_0.png" in message
    assert "mask_background_only" not in message


def test_gate_lets_warnings_pass(root):
    write_image(mask_path(root, "test", "test_0.png"), np.zeros((SIZE, SIZE), dtype=np.uint8))
    report, _ = validate(root)

    assert report["warnings"] == 1
    assert check_report(report, "", PARAMS) is True
