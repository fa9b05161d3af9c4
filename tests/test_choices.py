"""The one parser that magics, widgets and the Python API share."""

import pytest

from cnnlive.surfaces.choices import MODEL_PRESETS, build_model, parse_floats, parse_maps


@pytest.mark.parametrize("text, expected", [("all", "all"), ("5", 5), (" 1, 4,9 ", [1, 4, 9]), (3, 3),
                                            ([2, "7"], [2, 7])])
def test_parse_maps_accepts_the_documented_forms(text, expected):
    assert parse_maps(text) == expected


@pytest.mark.parametrize("bad", ["", "one", "1,x", True])
def test_parse_maps_refuses_other_text_and_says_what_it_takes(bad):
    with pytest.raises(ValueError, match="all"):
        parse_maps(bad)


def test_parse_floats():
    assert parse_floats("14,7,3", "wavelengths") == (14.0, 7.0, 3.0)
    with pytest.raises(ValueError, match="wavelengths must be numbers"):
        parse_floats("14,x", "wavelengths")


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ValueError) as err:
        build_model("vgg", (28, 28, 1), 10)
    assert all(name in str(err.value) for name in MODEL_PRESETS)


@pytest.mark.slow
def test_presets_build_models_for_the_data_shape():
    simple = build_model("simple", (28, 28, 1), 10)
    assert simple.get_layer("Conv2D_3").output.shape[-1] == 128
    tiny = build_model("resnet", (32, 32, 3), 7)
    assert tiny.input_shape[1:] == (32, 32, 3) and tiny.output_shape[-1] == 7
    assert build_model("resnet-cifar", (32, 32, 3), 7).count_params() == tiny.count_params()
