// A CDK app using Lambda Destinations: synthesised with `npx cdk synth`, deployed with
// `sendoff deploy cdk.out/CdkDestinations.template.json` (see tests/integration/test_deploy_cdk.py).
const path = require('path');
const cdk = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const destinations = require('aws-cdk-lib/aws-lambda-destinations');
const sns = require('aws-cdk-lib/aws-sns');
const subscriptions = require('aws-cdk-lib/aws-sns-subscriptions');
const sqs = require('aws-cdk-lib/aws-sqs');

const app = new cdk.App();
const stack = new cdk.Stack(app, 'CdkDestinations');

const records = new sqs.Queue(stack, 'Records');
const failures = new sns.Topic(stack, 'Failures');
failures.addSubscription(new subscriptions.SqsSubscription(records, { rawMessageDelivery: true }));

const receiver = new lambda.Function(stack, 'Receiver', {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'receiver')),
});

const worker = new lambda.Function(stack, 'Worker', {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: 'index.handler',
  code: lambda.Code.fromInline(
    'def handler(event, context):\n' +
    '    if event.get("fail"):\n' +
    '        raise Exception("the CDK worker failed")\n' +
    '    return {"ok": True}\n'),
  onSuccess: new destinations.LambdaDestination(receiver),
  onFailure: new destinations.SnsDestination(failures),
  retryAttempts: 0,
  maxEventAge: cdk.Duration.minutes(5),
});

new cdk.CfnOutput(stack, 'WorkerName', { value: worker.functionName });
new cdk.CfnOutput(stack, 'ReceiverName', { value: receiver.functionName });
new cdk.CfnOutput(stack, 'RecordsUrl', { value: records.queueUrl });
