"""Runs one Step Functions state machine definition locally in ministack's Step Functions interpreter
(JSONata and JSONPath, variables, Retry/Catch, Map; JSONata through jsonata-python), every Task
answered from a mock config (given inline) in the format of AWS Step Functions Local's mocked service integrations
(https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html).

Input (file named by the first argument): {"name", "definition" (a JSON string), "mockConfig",
"cases": [{"testCase", "input"}]}. Output: {"<testCase>": {"status", "output", "error", "cause",
"states": [top-level states entered, in order], "tasks": [Task states scheduled, in order]}}.
Waits and retry intervals are skipped (SFN_WAIT_SCALE=0). A Task with no mocked response fails the
run with States.NoMockedResponse rather than reach ministack's own service emulators.
Used by test/aws-rules/state-machines.test.ts.
"""
import json
import os
import sys
import time


def main():
    job = json.load(open(sys.argv[1]))
    if True:
        # ministack reads these when its Step Functions module is imported.
        os.environ["SFN_WAIT_SCALE"] = "0"
        os.environ.setdefault("MINISTACK_REGION", "eu-west-1")
        import logging
        logging.disable(logging.CRITICAL)
        from ministack.services import stepfunctions as sfn

        def no_mock(resource, *_args, **_kwargs):
            raise sfn._ExecutionError("States.NoMockedResponse", f"no mocked response for {resource}")

        # The mock config may name an execution's own ARN as {{executionArnPrefix}}<test case>.
        prefix = f"arn:aws:states:{sfn.get_region()}:{sfn.get_account_id()}:execution:{job['name']}:"
        sfn._sfn_mock_config = json.loads(json.dumps(job["mockConfig"]).replace("{{executionArnPrefix}}", prefix))
        # ministack 1.5.33 applies no JSONata Output on a Succeed state, which AWS evaluates
        # (https://docs.aws.amazon.com/step-functions/latest/dg/state-succeed.html): apply it here.
        output_path = sfn._apply_output_path

        def succeed_output(state_def, data, ctx=None):
            if state_def.get("Type") == "Succeed" and sfn._state_query_language(state_def, ctx) == "JSONata":
                return sfn._apply_jsonata_output(state_def, data, ctx, default=data)
            return output_path(state_def, data, ctx)

        sfn._apply_output_path = succeed_output
        sfn._invoke_resource = no_mock
        sfn._invoke_resource_with_timeout = no_mock

        created = json.loads(sfn._create_state_machine({
            "name": job["name"], "definition": job["definition"],
            "roleArn": "arn:aws:iam::123456789012:role/state-machine",
        })[2])
        if "stateMachineArn" not in created:
            raise SystemExit(f"ministack refused the definition: {created}")
        arn = created["stateMachineArn"]
        started = {}
        for case in job["cases"]:
            response = json.loads(sfn._start_execution({
                "stateMachineArn": f"{arn}#{case['testCase']}", "name": case["testCase"],
                "input": json.dumps(case["input"]),
            })[2])
            started[case["testCase"]] = response["executionArn"]
        results = {}
        deadline = time.time() + 60
        for test_case, execution_arn in started.items():
            execution = sfn._executions[execution_arn]
            while execution["status"] == "RUNNING" and time.time() < deadline:
                time.sleep(0.02)
            events = execution["events"]
            results[test_case] = {
                "status": execution["status"],
                "output": json.loads(execution["output"]) if execution.get("output") and execution["status"] == "SUCCEEDED" else None,
                "error": execution.get("error"),
                "cause": execution.get("cause"),
                "states": [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")],
            }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
