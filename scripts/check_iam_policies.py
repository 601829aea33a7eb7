"""Lints IAM policy documents with parliament (Duo Labs), against its database of every AWS service's
actions, resource types and condition keys (parliament/iam_definition.json, built from the Service
Authorization Reference).

Reads a JSON list of {"id": ..., "policy": {...}} from the file named as the first argument (or stdin)
and writes a JSON list of findings {"id", "issue", "severity", "title", "detail", "location"}. The
policies must already be plain JSON: CloudFormation intrinsics resolved (test/helpers/cfn-resolve.ts).
Used by test/aws-rules/iam-policies.test.ts.
"""
import json
import sys

import parliament
from parliament import analyze_policy_string


def plain(value):
    """parliament reports locations as jsoncfg nodes or dicts of them; keep what JSON can carry."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    try:
        return plain(value())  # a jsoncfg node: calling it gives its value
    except Exception:
        return str(value)


def condition_values_as_text(policy):
    """IAM accepts numbers and booleans as condition values (AWS's own S3 example writes
    "NumericLessThan": {"s3:TlsVersion": 1.2}) and compares them as text; parliament 1.6.4 crashes on
    a non-string value, so hand it the text IAM would compare."""
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for block in (statement.get("Condition") or {}).values():
            for key, value in block.items():
                if isinstance(value, list):
                    block[key] = [text(v) for v in value]
                else:
                    block[key] = text(value)
    return policy


def text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (int, float)) else value


def named_actions(policy):
    """The actions a policy names literally (no wildcard), lowercased."""
    statements = policy.get("Statement", [])
    named = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if "*" not in action:
                named.add(action.lower())
    return named


def about_named_actions(finding, named):
    """A wildcard (kms:*, s3:*) stands for every action of the service, and IAM grants each only where
    it applies; parliament expands it and reports the actions that cannot apply to the statement's
    resource or condition. Keep what it reports about the actions the policy names itself."""
    if finding["issue"] == "RESOURCE_MISMATCH":
        finding["detail"] = [d for d in finding["detail"] if d["action"].lower() in named]
        return bool(finding["detail"])
    if finding["issue"] == "UNKNOWN_CONDITION_FOR_ACTION":
        action = str(finding["detail"]).rsplit(" for action ", 1)[-1]
        return action.lower() in named
    return True


def main():
    source = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    policies = json.load(source)
    findings = []
    for entry in policies:
        policy = analyze_policy_string(json.dumps(condition_values_as_text(entry["policy"])))
        named = named_actions(entry["policy"])
        for finding in map(parliament.enhance_finding, policy.findings):
            reported = {
                "id": entry["id"],
                "issue": finding.issue,
                "severity": finding.severity,
                "title": finding.title,
                "detail": plain(finding.detail),
                "location": plain(finding.location),
            }
            if about_named_actions(reported, named):
                findings.append(reported)
    json.dump({"parliament": parliament.__version__, "findings": findings}, sys.stdout)


if __name__ == "__main__":
    main()
