"""Pydantic models of a DeepSquare module file (module.yaml), validated like a job spec.

The grid decodes module.yaml ignoring unknown keys; jobc reports them (decision 3), except a misspelt
`description`, which only warns: it changes nothing in the script, and the grid's own example module has one
(`despcription`). See docs/modules.md.
"""

from typing import Optional

from .deepsquare_models import Model, Step
from .fields import AtLeast0, AtLeast1, EnvName, ListOf, Str


class ModuleResources(Model):
    """The least the calling job must hold; each field is optional (the grid's JobResources, plus `gpus`)."""

    tasks: Optional[AtLeast1] = None
    cpusPerTask: Optional[AtLeast1] = None
    memPerCpu: Optional[AtLeast1] = None
    gpusPerTask: Optional[AtLeast0] = None
    gpus: Optional[AtLeast0] = None


class ModuleInput(Model):
    key: EnvName
    description: Optional[Str] = None
    default: Optional[Str] = None


class ModuleOutput(Model):
    key: EnvName
    description: Optional[Str] = None


class Module(Model):
    name: Str
    description: Optional[Str] = None
    minimumResources: Optional[ModuleResources] = None
    inputs: Optional[ListOf(ModuleInput)] = None
    outputs: Optional[ListOf(ModuleOutput)] = None
    steps: ListOf(Step)
