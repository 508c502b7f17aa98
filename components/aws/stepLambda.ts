import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ERASE_HANDLER, SWEEP_HANDLER, type FunctionHandler } from "../../functions/workflow";
import { assumeRolePolicy, stepFunctionPolicy } from "./iam";

/**
 * One workflow step as a Lambda function: its own log group (created here, so
 * retention is set and the function needs no logs:CreateLogGroup), its own role
 * with only that step's permissions (components/aws/iam.ts), active X-Ray tracing.
 * Every step runs the same bundle; `handler` picks the export (`index.<handler>`).
 */

/**
 * Node 24: the newest LTS runtime on Lambda, patched until 2028-04-30 (nodejs22.x
 * only until 2027-04-30). The bundle targets Node 20 syntax and the handlers are
 * async (Node 24 on Lambda has no callback handlers), so it runs on either.
 */
export const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS24dX;

/** The functions outside the workflow say what runs them. */
const DESCRIPTIONS: Partial<Record<FunctionHandler, string>> = {
  [SWEEP_HANDLER]: "image-pipeline stuck-job sweep (scheduled)",
  [ERASE_HANDLER]: "image-pipeline erasure on delete (uploads Object Deleted events)",
};

export interface StepLambdaAccess {
  uploadsBucketArn: pulumi.Input<string>;
  renditionsBucketArn: pulumi.Input<string>;
  workPrefix: string;
  tableArn: pulumi.Input<string>;
  topicArn: pulumi.Input<string>;
  kmsKeyArn?: pulumi.Input<string>;
}

export interface StepLambdaArgs {
  handler: FunctionHandler;
  /** Physical name, known before the function exists so its log group can be `/aws/lambda/<name>`. */
  functionName: string;
  code: pulumi.Input<pulumi.asset.Archive>;
  architecture: "arm64" | "x86_64";
  memoryMb: number;
  timeoutSeconds: number;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  logRetentionDays: number;
  /** What the step may touch; turned into its role policy. */
  access: StepLambdaAccess;
  /** Caps the step's concurrency (a cost and blast-radius guard); unset = unreserved. */
  reservedConcurrency?: number;
  vpc?: { subnetIds: pulumi.Input<string[]>; securityGroupIds: pulumi.Input<string>[] };
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

export class StepLambda extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly arn: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: StepLambdaArgs, opts?: pulumi.ComponentResourceOptions) {
    // Formerly image-pipeline:aws:StepFunction: the alias keeps existing stacks' functions in place instead of replacing them.
    super("image-pipeline:aws:StepLambda", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: "image-pipeline:aws:StepFunction" }] });
    const { handler, functionName, code, architecture, memoryMb, timeoutSeconds, environment, logRetentionDays, access, reservedConcurrency, vpc, tags, region } = args;
    const regional = region ? { region } : {};

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      // Logs at rest under the configured key too (its key policy must let CloudWatch Logs use it).
      { name: `/aws/lambda/${functionName}`, retentionInDays: logRetentionDays, ...(access.kmsKeyArn ? { kmsKeyId: access.kmsKeyArn } : {}), ...regional, tags },
      { parent: this },
    );
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")), tags }, { parent: this });
    const { uploadsBucketArn, renditionsBucketArn, workPrefix, tableArn, topicArn, kmsKeyArn } = access;
    const document = pulumi
      .all([uploadsBucketArn, renditionsBucketArn, tableArn, topicArn, logGroup.arn, kmsKeyArn])
      .apply(([uploads, renditions, table, topic, logGroupArn, key]) =>
        JSON.stringify(
          stepFunctionPolicy(handler, { uploadsBucketArn: uploads, renditionsBucketArn: renditions, workPrefix, tableArn: table, topicArn: topic, logGroupArn, kmsKeyArn: key, vpc: vpc !== undefined }),
        ),
      );
    const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: document },
      { parent: this },
    );

    this.function = new aws.lambda.Function(
      name,
      {
        name: functionName,
        description: DESCRIPTIONS[handler] ?? `image-pipeline step "${handler}"`,
        role: role.arn,
        runtime: LAMBDA_RUNTIME,
        handler: `index.${handler}`,
        code,
        architectures: [architecture],
        memorySize: memoryMb,
        timeout: timeoutSeconds,
        environment: { variables: environment },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        tracingConfig: { mode: "Active" },
        ...(reservedConcurrency !== undefined ? { reservedConcurrentExecutions: reservedConcurrency } : {}),
        ...(vpc ? { vpcConfig: { subnetIds: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds } } : {}),
        // Environment variables at rest under the same key as the data.
        ...(kmsKeyArn ? { kmsKeyArn } : {}),
        ...regional,
        tags,
      },
      // The role must carry its policy, and the log group exist, before the first invocation.
      { parent: this, dependsOn: [policy, logGroup] },
    );

    this.arn = this.function.arn;
    this.functionName = this.function.name;
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ arn: this.arn, functionName: this.functionName, roleArn: this.roleArn, logGroupName: this.logGroupName });
  }
}
