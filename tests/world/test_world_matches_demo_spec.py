"""The demo world's customisation options are exactly the demo spec's."""

from pathlib import Path

from accord.spec import load_spec
from accord.world import DEFAULT_SETTINGS, OPTIONS

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"


def test_world_options_and_defaults_match_the_demo_spec() -> None:
    spec = load_spec(DEMO_SPEC)
    declared = {o.id: (set(o.values), o.default) for o in spec.bounds.customisation}
    assert set(declared) == set(OPTIONS)
    for option, values in OPTIONS.items():
        assert set(values) == declared[option][0], option
        assert DEFAULT_SETTINGS[option] == declared[option][1], option
