"""Templates for the CloudFormation API tests (code inline: the API reads no local paths).

``announcement(...)`` is tests/support/templates/announcement/template.yaml with the
article's Node.js function (tests/support/seed/index.js) given as ``ZipFile``, so
``aws cloudformation deploy`` can take it without S3; ``env`` and ``tester_name`` (the
function's name, wherever the template names it) make the changes the update tests look for.
"""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1]
SEED = TEMPLATES.parent / "seed" / "index.js"


def announcement(
    *,
    env: dict[str, str] | None = None,
    tester_name: str = "YourLambdaFunctionWithEventInvokeConfig",
) -> str:
    text = (TEMPLATES / "announcement" / "template.yaml").read_text()
    text = text.replace(
        "      Code: ../../seed\n", "      Code:\n        ZipFile: SEED_SOURCE\n", 1
    )
    if env:
        text = text.replace(
            "FunctionName: YourLambdaFunctionWithEventInvokeConfig\n",
            "FunctionName: YourLambdaFunctionWithEventInvokeConfig\n"
            "      Environment:\n        Variables: " + json.dumps(env) + "\n",
            1,
        )
    text = text.replace("YourLambdaFunctionWithEventInvokeConfig", tester_name)
    source = SEED.read_text()
    body = text.replace("SEED_SOURCE", json.dumps(source))
    return body


FAILING = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: a queue, then an EventInvokeConfig for a function that does not exist
Resources:
  Records:
    Type: AWS::SQS::Queue
  Config:
    Type: AWS::Lambda::EventInvokeConfig
    DependsOn: Records
    Properties:
      FunctionName: no-such-function-anywhere
      Qualifier: $LATEST
      MaximumRetryAttempts: 0
"""

EXPORTER = """\
Parameters:
  Secret:
    Type: String
    NoEcho: true
  Name:
    Type: String
    Default: shared-queue
Resources:
  Shared:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref Name
Outputs:
  QueueUrl:
    Value: !Ref Shared
    Export:
      Name: !Sub "${AWS::StackName}-QueueUrl"
  Id:
    Value: !Ref AWS::StackId
"""

IMPORTER = """\
Parameters:
  Exporter:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !ImportValue
        Fn::Sub: "${Exporter}-QueueUrl"
Outputs:
  Imported:
    Value: !ImportValue
      Fn::Sub: "${Exporter}-QueueUrl"
"""
