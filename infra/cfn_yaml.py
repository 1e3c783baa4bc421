"""template.yaml read as YAML: CloudFormation's short tags (!Ref, !Sub, !GetAtt, …) kept as plain
one-key mappings ({"Ref": …}), for the scripts that read the template (resources.py, ops_lint.py)."""

import yaml


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, !GetAtt, …) as plain values."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _tag)


def load(path):
    """The template at `path`."""
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)
