"""An AWS emulator for deploy.sh's end-to-end tests: moto's server on 127.0.0.1, inside the test process.

moto 5.2's CloudFormation lacks some resource types the templates use, and its change-set path (the one
`aws cloudformation deploy` takes) differs from CloudFormation in ways deploy.sh depends on. This module
closes exactly those gaps, in the test process only:

- `register_stand_ins()` adds minimal models for the missing types. They create nothing in moto's other
  services; they record what CloudFormation passed them (`STAND_INS`) and answer the Ref and GetAtt
  values the templates read, in the formats AWS documents.
- `patched_moto()` narrows moto's behaviour to CloudFormation's where deploy.sh or the templates need it.
  Each patch says which difference it closes.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.awslambda import models as lambda_models
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.logs import models as logs_models  # noqa: F401  (registers AWS::Logs::LogGroup with CloudFormation)
from moto.s3 import models as s3_models
from moto.server import ThreadedMotoServer

# CloudFormation's wording when an update changes nothing; `aws cloudformation deploy` matches on it.
NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)
# What the Object Lambda stand-in answers when a test makes it refuse, like an account that never used
# S3 Object Lambda (closed to new accounts since 2025-11-07): S3 Control's 403 in the form CloudFormation's
# resource handlers report a denial (AWS publishes no wording of its own for this refusal).
OBJECT_LAMBDA_REFUSAL = (
    'Resource handler returned message: "Access Denied (Service: S3Control, Status Code: 403, Request ID: '
    'EMULATED0REFUSAL)" (RequestToken: 00000000-0000-0000-0000-000000000000, HandlerErrorCode: AccessDenied)'
)


# --- stand-in models ---------------------------------------------------------------------------------


@dataclass
class StandInRecord:
    """What one stand-in resource was created with, for the tests to inspect."""

    resource_type: str
    logical_id: str
    physical_id: str
    region: str
    properties: dict[str, Any]
    attributes: dict[str, Any]


@dataclass
class StandInRegistry:
    records: dict[tuple[str, str, str], StandInRecord] = field(default_factory=dict)
    refuse_object_lambda: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, resource_type: str, region: str | None = None) -> list[StandInRecord]:
        with self.lock:
            return [
                r
                for r in self.records.values()
                if r.resource_type == resource_type and (region is None or r.region == region)
            ]

    def physical_ids_in(self, region: str) -> list[tuple[str, str]]:
        """(type, physical ID) of every stand-in resource in the region, sorted."""
        with self.lock:
            return sorted((r.resource_type, r.physical_id) for r in self.records.values() if r.region == region)

    def put(self, record: StandInRecord) -> None:
        with self.lock:
            self.records[(record.resource_type, record.region, record.physical_id)] = record

    def drop(self, resource_type: str, region: str, physical_id: str) -> None:
        with self.lock:
            self.records.pop((resource_type, region, physical_id), None)


STAND_INS = StandInRegistry()


class StandInRefused(Exception):
    """A stand-in refusing to create its resource; carries what CloudFormation's event would say."""

    def __init__(self, logical_id: str, resource_type: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def _random_id(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class _StandInBehaviour:
    """Shared behaviour of the stand-ins. Each stand-in class also derives from CloudFormationModel
    directly: moto finds models through CloudFormationModel.__subclasses__(), direct subclasses only."""

    TYPE = ""
    NAME_PROPERTY = ""

    def __init__(self, physical_id: str, properties: dict[str, Any], account_id: str, region: str, logical_id: str):
        self.physical_id = physical_id
        self.properties = properties
        self.account_id = account_id
        self.region = region
        self.logical_id = logical_id
        self.attributes = self.compute_attributes()

    # Overridden per type: the physical ID (what Ref returns) and the GetAtt attributes.
    @classmethod
    def new_physical_id(cls, resource_name: str, properties: dict[str, Any], account_id: str, region: str) -> str:
        return resource_name

    def compute_attributes(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def cloudformation_name_type() -> str:  # replaced per class
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTE_NAMES  # type: ignore[attr-defined]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes:
            return self.attributes[attribute_name]
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    def _record(self) -> None:
        STAND_INS.put(
            StandInRecord(
                self.TYPE, self.logical_id, self.physical_id, self.region, self.properties, dict(self.attributes)
            )
        )

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        logical_id = kwargs.get("LogicalId", resource_name)
        cls.refuse_if_told(logical_id)
        physical_id = cls.new_physical_id(resource_name, properties, account_id, region_name)
        resource = cls(physical_id, properties, account_id, region_name, logical_id)
        resource._record()
        return resource

    @classmethod
    def refuse_if_told(cls, logical_id: str) -> None:
        return None

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        name = cls.NAME_PROPERTY
        if name and properties.get(name) != original_resource.properties.get(name):
            # A new name replaces the resource, as in CloudFormation.
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name, LogicalId=original_resource.logical_id
            )
        # Otherwise the update is in place: same physical ID and attributes (a distribution keeps its ID and
        # domain name).
        resource = cls(original_resource.physical_id, properties, account_id, region_name, original_resource.logical_id)
        resource.attributes = original_resource.attributes
        resource._record()
        return resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        STAND_INS.drop(cls.TYPE, region_name, resource_name)

    def delete(self, account_id: str, region: str) -> None:
        STAND_INS.drop(self.TYPE, region, self.physical_id)


def _stand_in(
    class_name: str, service: str, resource_type: str, name_property: str, attribute_names: list[str], **methods: Any
) -> type:
    # moto files every model under the service named by its module (`moto.<service>...`).
    namespace: dict[str, Any] = {
        "__module__": f"moto.{service}.project_stand_ins",
        "TYPE": resource_type,
        "NAME_PROPERTY": name_property,
        "ATTRIBUTE_NAMES": attribute_names,
        "cloudformation_type": staticmethod(lambda: resource_type),
        "cloudformation_name_type": staticmethod(lambda: name_property),
        **methods,
    }
    return type(class_name, (_StandInBehaviour, CloudFormationModel), namespace)


def _generated_id(alphabet: str, length: int, prefix: str = "") -> classmethod:
    return classmethod(lambda cls, *_: prefix + _random_id(length, alphabet))


# CloudFront IDs (distributions, origin access controls): E and 13 upper-case letters or digits.
_cloudfront_id = _generated_id(string.ascii_uppercase + string.digits, 13, "E")


def _no_attributes(self: Any) -> dict[str, Any]:
    return {}


def _access_point_attributes(self: Any) -> dict[str, Any]:
    # Formats from the AWS::S3::AccessPoint return values.
    name = self.physical_id
    return {
        "Arn": f"arn:aws:s3:{self.region}:{self.account_id}:accesspoint/{name}",
        "Alias": f"{name}-{_random_id(34, string.ascii_lowercase)}-s3alias",
        "Name": name,
        "NetworkOrigin": "Internet",
    }


def _object_lambda_access_point_attributes(self: Any) -> dict[str, Any]:
    # Formats from the AWS::S3ObjectLambda::AccessPoint return values.
    name = self.physical_id
    return {
        "Arn": f"arn:aws:s3-object-lambda:{self.region}:{self.account_id}:accesspoint/{name}",
        "Alias.Value": f"{name}-{_random_id(34, string.ascii_lowercase)}--ol-s3",
        "Alias.Status": "READY",
        "CreationDate": "2026-01-01T00:00:00Z",
        "PolicyStatus.IsPublic": "false",
    }


def _refuse_object_lambda(cls: type, logical_id: str) -> None:
    if STAND_INS.refuse_object_lambda:
        raise StandInRefused(logical_id, "AWS::S3ObjectLambda::AccessPoint", OBJECT_LAMBDA_REFUSAL)


def _policy_attributes(self: Any) -> dict[str, Any]:
    return {"Id": self.physical_id, "LastModifiedTime": "2026-01-01T00:00:00Z"}


def _distribution_attributes(self: Any) -> dict[str, Any]:
    return {
        "Id": self.physical_id,
        "DomainName": f"d{_random_id(13, string.ascii_lowercase + string.digits)}.cloudfront.net",
    }


def _id_attribute(self: Any) -> dict[str, Any]:
    return {"Id": self.physical_id}


def _function_url_target(cls: type, resource_name: str, properties: dict[str, Any], *_: Any) -> str:
    # Ref of AWS::Lambda::Url is the function's ARN (the resource's primary identifier).
    return properties["TargetFunctionArn"]


def _function_url_attributes(self: Any) -> dict[str, Any]:
    # Formats from the AWS::Lambda::Url return values: https://<url-id>.lambda-url.<region>.on.aws/
    url_id = _random_id(32, string.ascii_lowercase + string.digits)
    return {
        "FunctionUrl": f"https://{url_id}.lambda-url.{self.region}.on.aws/",
        "FunctionArn": self.properties["TargetFunctionArn"],
    }


def _cloudfront_function_arn(
    cls: type, resource_name: str, properties: dict[str, Any], account_id: str, *_: Any
) -> str:
    # Ref of AWS::CloudFront::Function is its ARN; CloudFront functions are global (no region in the ARN).
    return f"arn:aws:cloudfront::{account_id}:function/{properties['Name']}"


def _cloudfront_function_attributes(self: Any) -> dict[str, Any]:
    stage = "LIVE" if str(self.properties.get("AutoPublish", "false")).lower() == "true" else "DEVELOPMENT"
    return {
        "FunctionARN": self.physical_id,
        "FunctionMetadata.FunctionARN": self.physical_id,
        "Stage": stage,
    }


STAND_IN_CLASSES = [
    _stand_in(
        "BucketPolicyStandIn",
        "s3",
        "AWS::S3::BucketPolicy",
        "",
        [],
        new_physical_id=_generated_id(string.ascii_uppercase + string.digits, 12, "bucket-policy-"),
        compute_attributes=_no_attributes,
    ),
    _stand_in(
        "AccessPointStandIn",
        "s3control",
        "AWS::S3::AccessPoint",
        "Name",
        ["Arn", "Alias", "Name", "NetworkOrigin"],
        compute_attributes=_access_point_attributes,
    ),
    _stand_in(
        "ObjectLambdaAccessPointStandIn",
        "s3control",
        "AWS::S3ObjectLambda::AccessPoint",
        "Name",
        ["Arn", "Alias.Value", "Alias.Status", "CreationDate", "PolicyStatus.IsPublic"],
        compute_attributes=_object_lambda_access_point_attributes,
        refuse_if_told=classmethod(_refuse_object_lambda),
    ),
    _stand_in(
        "ObjectLambdaAccessPointPolicyStandIn",
        "s3control",
        "AWS::S3ObjectLambda::AccessPointPolicy",
        "",
        [],
        new_physical_id=_generated_id(string.ascii_uppercase + string.digits, 12, "olap-policy-"),
        compute_attributes=_no_attributes,
    ),
    *(
        _stand_in(
            f"{kind}StandIn",
            "cloudfront",
            f"AWS::CloudFront::{kind}",
            "",
            ["Id", "LastModifiedTime"],
            new_physical_id=classmethod(lambda cls, *_: str(uuid.uuid4())),
            compute_attributes=_policy_attributes,
        )
        for kind in ("CachePolicy", "OriginRequestPolicy", "ResponseHeadersPolicy")
    ),
    _stand_in(
        "DistributionStandIn",
        "cloudfront",
        "AWS::CloudFront::Distribution",
        "",
        ["Id", "DomainName"],
        new_physical_id=_cloudfront_id,
        compute_attributes=_distribution_attributes,
    ),
    _stand_in(
        "OriginAccessControlStandIn",
        "cloudfront",
        "AWS::CloudFront::OriginAccessControl",
        "",
        ["Id"],
        new_physical_id=_cloudfront_id,
        compute_attributes=_id_attribute,
    ),
    _stand_in(
        "CloudFrontFunctionStandIn",
        "cloudfront",
        "AWS::CloudFront::Function",
        "Name",
        ["FunctionARN", "FunctionMetadata.FunctionARN", "Stage"],
        new_physical_id=classmethod(_cloudfront_function_arn),
        compute_attributes=_cloudfront_function_attributes,
    ),
    # A function URL is recorded here only; moto's Lambda backend gets no URL configuration.
    _stand_in(
        "FunctionUrlStandIn",
        "awslambda",
        "AWS::Lambda::Url",
        "TargetFunctionArn",
        ["FunctionUrl", "FunctionArn"],
        new_physical_id=classmethod(_function_url_target),
        compute_attributes=_function_url_attributes,
    ),
]


def register_stand_ins() -> None:
    """Make the stand-ins visible to moto's CloudFormation (its model lookups are cached)."""
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def unsupported_types(templates: list[dict[str, Any]]) -> set[str]:
    """Resource types in the templates that moto (with the stand-ins) cannot create."""
    known = parsing.get_model_map()
    return {
        resource["Type"]
        for template in templates
        for resource in template.get("Resources", {}).values()
        if resource["Type"] not in known
    }


# --- patches to moto ---------------------------------------------------------------------------------


def _effective_parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, str]:
    """Parameter values as CloudFormation compares them: defaults filled in, every value as a string."""
    values = {name: slot.get("Default") for name, slot in template.get("Parameters", {}).items()}
    values.update({name: value for name, value in given.items() if name in values})
    return {
        name: ",".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
        for name, value in values.items()
    }


def _references(node: Any) -> set[str]:
    """Logical IDs a resource's JSON refers to (Ref, Fn::GetAtt, Fn::Sub variables, DependsOn)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                for piece in text.split("${")[1:]:
                    found.add(piece.split("}")[0].split(".")[0])
                if isinstance(value, list):
                    found |= _references(value[1])
            elif key == "DependsOn":
                found |= {value} if isinstance(value, str) else set(value)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def _dependency_order(resources: dict[str, Any], names: list[str]) -> list[str]:
    pending = set(names)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name not in pending or name in ordered or name in visiting:
            return
        visiting.add(name)
        for dependency in sorted(_references(resources[name])):
            visit(dependency)
        visiting.discard(name)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def _update_in_dependency_order(
    self: parsing.ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> None:
    """ResourceMap.update that adds and modifies resources in dependency order.

    moto creates every added resource before it updates any modified one. CloudFormation follows the
    dependencies, so a new AWS::Lambda::Version is published after its function's code is updated; in
    moto's order the function is still unchanged, so the new version gets the number already published.
    Removals come first, as in moto (CloudFormation removes in its clean-up phase; no test depends on it).

    It also follows the resources' Conditions, as CloudFormation does: a resource whose condition turns true
    (a parameter changed) is created, one whose condition turns false is deleted. moto compares only the
    resources' text and the parameters they refer to, so it kept the one and never created the other.
    """
    diff = self.build_resource_diff(template, parameters)
    existed = {name for name in self._resource_json_map if name in self._parsed_resources}
    old_json = dict(self._resource_json_map)
    for name in diff["Remove"]:
        if name in self._parsed_resources:
            self._delete_resource(self._parsed_resources.pop(name), self._resource_json_map[name])
    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]

    def wanted(name: str) -> bool:
        condition = self._resource_json_map[name].get("Condition")
        return not condition or bool(self.lazy_condition_map[condition])

    for name in [name for name in self._resource_json_map if name in existed and not wanted(name)]:
        self._delete_resource(self._parsed_resources.pop(name), old_json[name])
    added = {name for name in self._resource_json_map if name not in existed and wanted(name)}
    modified = [name for name in diff["Modify"] if name in existed and wanted(name)]
    for name in _dependency_order(self._resource_json_map, sorted(added) + modified):
        if name in added:
            _ = self[name]
            continue
        changed = parsing.parse_and_update_resource(
            name, self._resource_json_map[name], self, account_id=self._account_id, region_name=self._region_name
        )
        # moto answers None for models without an update; CloudFormation would keep the resource.
        if changed is not None:
            self._parsed_resources[name] = changed


def _create_change_set(original: Any) -> Any:
    def create_change_set(self: cfn_models.CloudFormationBackend, **kwargs: Any) -> tuple[str, str]:
        """An update changes nothing when the template and the effective parameter values are the same.

        moto compares the raw parameter lists, so a parameter left at its default (sent by
        `aws cloudformation deploy` as UsePreviousValue) counts as a change, and an unchanged stack
        gets an empty change set that the CLI executes as an update.
        """
        change_set_id, stack_id = original(self, **kwargs)
        change_set = self.change_sets[change_set_id]
        if kwargs["change_set_type"] == "UPDATE":
            stack = change_set.stack
            unchanged = stack.template_dict == change_set.template_dict and _effective_parameters(
                stack.template_dict, stack.resource_map.resolved_parameters
            ) == _effective_parameters(change_set.template_dict, change_set.parameters)
            if unchanged:
                change_set.status = "FAILED"
                change_set.execution_status = "UNAVAILABLE"
                change_set.status_reason = NO_CHANGES_REASON
        return change_set_id, stack_id

    return create_change_set


def _record_failure(stack: cfn_models.Stack, change_set_type: str, error: Exception) -> None:
    """Record a failed operation the way CloudFormation reports it: resource event, rollback, status."""
    logical_id = getattr(error, "logical_id", stack.name)
    resource_type = getattr(error, "resource_type", "AWS::CloudFormation::Stack")
    reason = getattr(error, "reason", f"{type(error).__name__}: {error}")
    action = "CREATE" if change_set_type == "CREATE" else "UPDATE"
    stack.events.append(
        cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id="",
            resource_type=resource_type,
            resource_status=f"{action}_FAILED",
            resource_status_reason=reason,
            resource_properties=None,
        )
    )
    rollback = "ROLLBACK" if action == "CREATE" else "UPDATE_ROLLBACK"
    stack._add_stack_event(
        f"{rollback}_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to {action.lower()}: [{logical_id}].",
    )
    stack._add_stack_event(f"{rollback}_COMPLETE")
    stack.status = f"{rollback}_COMPLETE"


def _execute_change_set(original: Any) -> Any:
    def execute_change_set(
        self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        """Run a change set the way CloudFormation does, where moto differs:

        - A stack made by a change set starts without this region's exports, so Fn::ImportValue fails:
          give its resource map the backend's exports first.
        - Afterwards moto keeps the empty template the stack was created with: no outputs, no exports.
          Re-read the template, outputs and exports, and remember the parameters for the next diff.
        - A resource that fails raises through the API call; CloudFormation accepts the call and reports
          the failure in the stack's events and status (ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE).
        - A failed creation keeps what it created; CloudFormation's rollback deletes it, except resources
          with DeletionPolicy Retain (an explicitly named function or log group would otherwise block the
          next stack that uses the name). A failed update is not undone (no test depends on it).
        """
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        try:
            original(self, change_set_name, stack_name)
        except Exception as error:  # any failure becomes the stack's failure, as in CloudFormation
            change_set.execution_status = "EXECUTE_FAILED"
            if change_set.change_set_type == "CREATE":
                stack.resource_map.delete()
            _record_failure(stack, change_set.change_set_type, error)
            return
        stack.template = change_set.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = dict(change_set.parameters)
        stack.output_map = stack._create_output_map()
        for name in [name for name, export in self.exports.items() if export.exporting_stack_id == stack.stack_id]:
            del self.exports[name]
        self._validate_export_uniqueness(stack)
        for export in stack.exports:
            self.exports[export.name] = export

    return execute_change_set


def _version_create(
    cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
) -> Any:
    """moto's AWS::Lambda::Version, keeping the published version's ARN for Ref (see _version_arn)."""
    function_name = cloudformation_json["Properties"]["FunctionName"]
    published = lambda_models.lambda_backends[account_id][region_name].publish_version(function_name)
    version = lambda_models.LambdaVersion({"Version": published.version})
    version.version_arn = published.function_arn
    version.function_arn = lambda_models.make_function_arn(region_name, account_id, published.function_name)
    return version


def _version_arn(self: Any) -> str:
    """Ref of AWS::Lambda::Version is the version's ARN. moto's model has no physical ID, so Ref gave the
    model object itself, and the SSM parameter and the output held its repr (the logical ID)."""
    return self.version_arn


def _version_attribute(self: Any, attribute_name: str) -> Any:
    """Fn::GetAtt on AWS::Lambda::Version (Version, FunctionArn), which moto does not answer."""
    if attribute_name == "Version":
        return str(self.version)
    if attribute_name == "FunctionArn":
        return self.function_arn
    raise UnformattedGetAttTemplateException()


def _function_update(original: Any) -> Any:
    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        """Inline code (Code.ZipFile) is plain source in a template. moto zips it on create but hands the
        plain text to its base64 decoder on update: zip it here as well."""
        code = cloudformation_json["Properties"].get("Code", {})
        if "ZipFile" in code:
            cloudformation_json = copy.deepcopy(cloudformation_json)
            plain = cloudformation_json["Properties"]["Code"]["ZipFile"]
            zipped = lambda_models.LambdaFunction._create_zipfile_from_plaintext_code(plain)
            cloudformation_json["Properties"]["Code"]["ZipFile"] = base64.b64encode(zipped)
        return original.__func__(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )

    return update_from_cloudformation_json


# The Lambda Web Adapter's layers, published by AWS in every commercial region (stacks/common.py,
# LAMBDA_WEB_ADAPTER_ACCOUNT): they exist in AWS, not in the emulator.
_PUBLISHED_ADAPTER_LAYER = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:753240598075:layer:LambdaAdapterLayer(X86|Arm64):\d+$")


def _layers_data(original: Any) -> Any:
    def get_layers_data(self: Any, layers_versions_arns: list[str]) -> list[dict[str, Any]]:
        """moto knows only layers published in it, so a function using the adapter's public layer (the
        function-URL mode's default, streaming) fails to create: answer for the published adapter layers as AWS
        does, and leave every other layer to moto."""
        published = [arn for arn in layers_versions_arns if _PUBLISHED_ADAPTER_LAYER.match(arn)]
        others = [arn for arn in layers_versions_arns if arn not in published]
        return [{"Arn": arn, "CodeSize": 0} for arn in published] + (original(self, others) if others else [])

    return get_layers_data


def _denies_plain_http_only(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return str(condition.get("aws:SecureTransport", "")).lower() == "false"


def _bucket_permission(self: s3_models.FakeBucket, action: str, resource: str) -> PermissionResult:
    """moto ignores `Bool` conditions, so a statement denying requests without TLS (aws:SecureTransport
    false) denies every object request. The CLI talks to AWS over TLS and to this emulator over loopback
    HTTP in its place: evaluate the bucket policy as moto does, without the statements that only apply to
    plain HTTP."""
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = [statement for statement in statements if not _denies_plain_http_only(statement)]
    return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)


def _no_early_refusal(self: Any, *args: Any) -> None:
    """CreateChangeSet for an update that changes nothing: CloudFormation creates the change set with status
    FAILED and NO_CHANGES_REASON (what `deploy --no-fail-on-empty-changeset` expects); moto refuses the call
    with "No updates are to be performed.". The FAILED status is set by _create_change_set."""


@contextlib.contextmanager
def patched_moto() -> Iterator[None]:
    """moto's CloudFormation, Lambda and S3, narrowed to AWS's behaviour where deploy.sh and the templates
    need it. Each replacement's docstring says which difference it closes."""
    cfn = cfn_models.CloudFormationBackend
    function = lambda_models.LambdaFunction
    version = lambda_models.LambdaVersion
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cfn_responses.CloudFormationResponse, "_validate_different_update", _no_early_refusal)
        patch.setattr(cfn, "create_change_set", _create_change_set(cfn.create_change_set))
        patch.setattr(cfn, "execute_change_set", _execute_change_set(cfn.execute_change_set))
        patch.setattr(parsing.ResourceMap, "update", _update_in_dependency_order)
        patch.setattr(version, "create_from_cloudformation_json", classmethod(_version_create))
        patch.setattr(version, "physical_resource_id", property(_version_arn), raising=False)
        patch.setattr(version, "get_cfn_attribute", _version_attribute, raising=False)
        update = function.__dict__["update_from_cloudformation_json"]
        patch.setattr(function, "update_from_cloudformation_json", classmethod(_function_update(update)))
        patch.setattr(s3_models.FakeBucket, "get_permission", _bucket_permission)
        patch.setattr(function, "_get_layers_data", _layers_data(function._get_layers_data))
        yield


# --- the server --------------------------------------------------------------------------------------


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free port of 127.0.0.1, with the stand-ins and patches; yields its URL."""
    request_log = logging.getLogger("werkzeug")  # one line per request otherwise
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    register_stand_ins()
    try:
        with patched_moto():
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            try:
                host, port = server.get_host_and_port()
                yield f"http://{host}:{port}"
            finally:
                server.stop()
    finally:
        request_log.setLevel(level)
