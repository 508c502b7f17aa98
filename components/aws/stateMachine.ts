import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { STEP_HANDLERS, type StepHandler, type WorkflowDefinition } from "../../functions/workflow";
import { renderAsl } from "./asl";
import { assumeRolePolicy, stateMachinePolicy } from "./iam";

/**
 * The Step Functions state machine: the ASL rendered from the cloud-neutral
 * workflow (components/aws/asl.ts) with the deployed functions' ARNs, a role that
 * may invoke exactly those functions, logging to its own log group, X-Ray tracing.
 */

export interface PipelineStateMachineArgs {
  definition: WorkflowDefinition;
  functionArns: Record<StepHandler, pulumi.Input<string>>;
  /** Task timeouts per handler (seconds). */
  taskTimeoutSeconds?: Partial<Record<StepHandler, number>>;
  /**
   * EXPRESS (default): at-least-once start, billed per request and duration, far cheaper at volume.
   * STANDARD: exactly-once start, 90 days of execution history, $0.025 per 1,000 transitions (7 per image).
   */
  workflowType: "STANDARD" | "EXPRESS";
  logRetentionDays: number;
  /** Customer-managed key for the execution log group (its key policy must let CloudWatch Logs use it). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Account the service may act for (confused-deputy guard in the trust policy). */
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/** What a state machine's own log group and role need. */
export interface StateMachineLogsArgs {
  logRetentionDays: number;
  kmsKeyArn?: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/**
 * A state machine's log group (`${name}-logs`) and the role Step Functions assumes (`${name}-role`),
 * children of `parent`: the pipeline's machine and the reprocess machine set them up alike.
 */
export function stateMachineLogsAndRole(parent: pulumi.Resource, name: string, args: StateMachineLogsArgs): { logGroup: aws.cloudwatch.LogGroup; role: aws.iam.Role } {
  const { logRetentionDays, kmsKeyArn, accountId, tags, region } = args;
  // The /aws/vendedlogs/ prefix keeps CloudWatch's log resource policy small however many machines log.
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/aws/vendedlogs/states/${name}`, retentionInDays: logRetentionDays, ...(kmsKeyArn ? { kmsKeyId: kmsKeyArn } : {}), ...(region ? { region } : {}), tags },
    { parent },
  );
  const role = new aws.iam.Role(
    `${name}-role`,
    { assumeRolePolicy: pulumi.output(accountId).apply((account) => JSON.stringify(assumeRolePolicy("states.amazonaws.com", account))), tags },
    { parent },
  );
  return { logGroup, role };
}

export class PipelineStateMachine extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly arn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** The rendered ASL, as deployed. */
  readonly definition: pulumi.Output<string>;

  constructor(name: string, args: PipelineStateMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:StateMachine", name, {}, opts);
    const { definition, functionArns, taskTimeoutSeconds = {}, workflowType, tags, region } = args;
    const regional = region ? { region } : {};

    const { logGroup, role } = stateMachineLogsAndRole(this, name, args);
    const arns = pulumi.all(functionArns);
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.id, policy: arns.apply((a) => JSON.stringify(stateMachinePolicy(STEP_HANDLERS.map((handler) => a[handler])))) },
      { parent: this },
    );

    this.definition = arns.apply((a) => JSON.stringify(renderAsl(definition, a, { taskTimeoutSeconds }), null, 2));
    this.stateMachine = new aws.sfn.StateMachine(
      name,
      {
        type: workflowType,
        roleArn: role.arn,
        definition: this.definition,
        loggingConfiguration: {
          logDestination: pulumi.interpolate`${logGroup.arn}:*`,
          // Failed runs only, on both types: each job's record is its row in the jobs table, and logging every Express
          // run at ALL would bill log ingestion per image. https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html
          level: "ERROR",
          // State inputs and outputs hold object keys and job details: keep them out of the logs.
          includeExecutionData: false,
        },
        tracingConfiguration: { enabled: true },
        ...regional,
        tags,
      },
      // Step Functions checks the role's permissions (log delivery) when the machine is created.
      { parent: this, dependsOn: [policy] },
    );

    this.arn = this.stateMachine.arn;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ arn: this.arn, roleArn: this.roleArn, logGroupName: this.logGroupName });
  }
}
