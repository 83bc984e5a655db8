"""A template as CloudFormation would deploy it for given parameter values: conditions evaluated, `Fn::If` resolved
and resources whose condition is false left out. Only what the project's conditions use is understood
(Fn::Equals of a Ref and a literal, Fn::Not, Fn::And); anything else is an error, never a guess."""

from __future__ import annotations


def _value(node, parameters: dict):
    if isinstance(node, dict) and set(node) == {"Ref"}:
        name = node["Ref"]
        if name not in parameters:
            raise KeyError(f"no value given for parameter {name}")
        return parameters[name]
    if isinstance(node, str):
        return node
    raise ValueError(f"cannot evaluate {node!r}")


def _condition(node, conditions: dict, parameters: dict) -> bool:
    (function, arguments), = node.items()
    if function == "Fn::Equals":
        left, right = (_value(a, parameters) for a in arguments)
        return left == right
    if function == "Fn::Not":
        return not _condition(arguments[0], conditions, parameters)
    if function == "Fn::And":
        return all(_condition(a, conditions, parameters) for a in arguments)
    if function == "Condition":
        return conditions[arguments]
    raise ValueError(f"cannot evaluate {function}")


def _resolve(node, truth: dict):
    if isinstance(node, dict):
        if set(node) == {"Fn::If"} and node["Fn::If"][0] in truth:
            name, when_true, when_false = node["Fn::If"]
            return _resolve(when_true if truth[name] else when_false, truth)
        return {key: _resolve(value, truth) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, truth) for item in node if item != {"Ref": "AWS::NoValue"}]
    return node


def deployed(template: dict, **parameters: str) -> dict:
    """The template with every condition that depends only on `parameters` applied; the others stay as they are."""
    values = dict(parameters)
    truth: dict[str, bool] = {}
    for name, expression in template.get("Conditions", {}).items():
        try:
            truth[name] = _condition(expression, truth, values)
        except (KeyError, ValueError):
            continue  # depends on a parameter without a value: left as it is
    resources = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if truth.get(resource.get("Condition"), True)
    }
    return _resolve({**template, "Resources": resources}, truth)
