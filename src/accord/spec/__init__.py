"""The written behaviour spec: loading, validating, versioning and comparing it.

A spec is a folder of YAML files (guidelines, bounds, constitution, rules and an optional
spec.yaml manifest) validated into typed models; each version is named by the sha256 of
its canonical content. See docs/spec.md for the file formats.
"""

from accord.spec._bounds import (
    LAYERS,
    Bounds,
    Check,
    CustomisationOption,
    Default,
    HardBound,
)
from accord.spec._cli import spec_app
from accord.spec._constitution import Constitution, Manifest, Principle, ProvenanceRecord
from accord.spec._diff import FieldChange, ItemChange, SectionDiff, SpecDiff, diff_specs
from accord.spec._dump import dump_spec
from accord.spec._formula import (
    And,
    Const,
    Formula,
    FormulaError,
    Name,
    Not,
    Or,
    evaluate,
    formula_names,
    parse_formula,
)
from accord.spec._guidelines import (
    BinaryLabels,
    BinaryScale,
    Category,
    Example,
    FlagOption,
    FlagsScale,
    Guidelines,
    LikertScale,
    Scale,
)
from accord.spec._issues import SpecError, SpecIssue
from accord.spec._rules import (
    COMPLETION_CLASSES,
    GRADER_KINDS,
    Grader,
    Proposition,
    ResponseType,
    Rules,
)
from accord.spec._spec import Spec, load_spec
from accord.spec._starter import write_starter_spec
from accord.spec._yaml import read_yaml, to_plain

__all__ = [
    "COMPLETION_CLASSES",
    "GRADER_KINDS",
    "LAYERS",
    "And",
    "BinaryLabels",
    "BinaryScale",
    "Bounds",
    "Category",
    "Check",
    "Const",
    "Constitution",
    "CustomisationOption",
    "Default",
    "Example",
    "FieldChange",
    "FlagOption",
    "FlagsScale",
    "Formula",
    "FormulaError",
    "Grader",
    "Guidelines",
    "HardBound",
    "ItemChange",
    "LikertScale",
    "Manifest",
    "Name",
    "Not",
    "Or",
    "Principle",
    "Proposition",
    "ProvenanceRecord",
    "ResponseType",
    "Rules",
    "Scale",
    "SectionDiff",
    "Spec",
    "SpecDiff",
    "SpecError",
    "SpecIssue",
    "diff_specs",
    "dump_spec",
    "evaluate",
    "formula_names",
    "load_spec",
    "parse_formula",
    "read_yaml",
    "spec_app",
    "to_plain",
    "write_starter_spec",
]
