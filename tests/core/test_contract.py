"""The policy contract: metadata round trip and clear errors for missing or unknown versions."""

from __future__ import annotations

import pytest

from fpo_core.contract import FLOW_IO, FORMAT_VERSION, TIME_CONVENTION, PolicyContract
from fpo_core.errors import PolicyFileError


def make_contract(**overrides) -> PolicyContract:
    fields = dict(kind="flow", obs_dim=4, act_dim=2, action_low=[-1.0, -2.0], action_high=[1.0, 2.0], squash="tanh",
                  num_steps=10, integrator="euler", noise="random", control_period_s=0.04, env_id="Test-v0",
                  algorithm="fpo", training_steps=123, joint_names=["a", "b"], input_names=FLOW_IO[0], output_names=FLOW_IO[1])
    fields.update(overrides)
    return PolicyContract(**fields)


def test_round_trip_is_string_to_string():
    c = make_contract(fused_steps=5, fused_integrator="rk4", fused_file="p.fused.onnx")
    meta = c.to_metadata()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    assert PolicyContract.from_metadata({**meta, "producer_note": "ignored"}) == c
    assert c.format_version == FORMAT_VERSION and c.time_convention == TIME_CONVENTION


@pytest.mark.parametrize(
    "field, value, match",  # value: the field's JSON in the metadata, None: the field missing
    [
        ("format_version", None, "format_version missing"),
        ("format_version", "2", "format_version 2"),
        ("joint_names", None, "lacks joint_names"),
        ("obs_dim", "{not json", "not valid JSON"),
        ("integrator", '"leapfrog"', "integrator 'leapfrog'"),
        ("action_low", "[0.0]", "2 finite numbers each"),
        ("action_low", "[5.0, 0.0]", "low <= high"),
        ("action_high", '[1.0, "x"]', "2 finite numbers each"),
        ("action_high", "[1.0, Infinity]", "2 finite numbers each"),
        ("action_low", "3", "2 finite numbers each"),
        ("control_period_s", "-0.04", "control_period_s -0.04 must be a number in"),
        ("control_period_s", '"fast"', "control_period_s 'fast'"),
        ("joint_names", "[1, 2]", "joint_names must be 2 strings"),
        ("gaussian_std", "[0.5, -1.0]", "gaussian_std must be 2 finite numbers > 0"),
        ("training_steps", '"many"', "training_steps 'many'"),
        ("time_convention", '"tau=0 action"', "time_convention"),
    ],
)
def test_bad_metadata_names_the_problem(field, value, match):
    meta = make_contract().to_metadata()
    if value is None:
        del meta[field]
    else:
        meta[field] = value
    with pytest.raises(PolicyFileError, match=match):
        PolicyContract.from_metadata(meta)


def test_fused_fields_go_together():
    with pytest.raises(PolicyFileError, match="fused"):
        make_contract(fused_steps=5)
    with pytest.raises(PolicyFileError, match="flow policy"):
        make_contract(kind="gaussian", fused_steps=5, fused_integrator="euler", fused_file="x.onnx")


def test_every_field_is_documented_for_deployments_without_fpo():
    """docs/ROS.md, "The exported model", names every metadata key a deployment in another language reads."""
    import dataclasses
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "ROS.md").read_text()
    section = doc.split("## The exported model", 1)[-1].split("\n## ", 1)[0]
    missing = [f.name for f in dataclasses.fields(PolicyContract) if f"`{f.name}`" not in section]
    assert "## The exported model" in doc and not missing, missing
