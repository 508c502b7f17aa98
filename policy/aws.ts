import type { ReportViolation, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { isProductionTagged, PRODUCTION_DEFAULTS, resourceLabel } from "./common";
import {
  allowsResourceWildcard,
  isAllow,
  isTlsOnlyStatement,
  isWildcardAction,
  parseDocument,
  statementName,
  type ParsedDocument,
} from "./iam";
import { runtimeStatus, supportedRuntimes } from "./lambdaRuntimes";
import {
  asArray,
  asRecord,
  at,
  configOf,
  findLinked,
  jsonValue,
  forTypes,
  isUnknown,
  purposeTagValues,
  show,
  stackResources,
  type Props,
  type StackResource,
} from "./support";
import { AWS } from "./types";

/**
 * AWS rules. Content that one resource decides (flags, modes, documents) is
 * checked per resource, so `pulumi up` stops before creating it; what needs
 * two resources (a bucket and its versioning...) is checked over the stack.
 */

const label = (type: string, name: string) => `The ${resourceLabel(type, name)}`;

// ---------------------------------------------------------------- S3

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlockComplete: ResourceValidationPolicy = {
  name: "aws-s3-public-access-block-complete",
  description:
    "S3 public access blocks set all four flags (blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets), because uploads and renditions are private and one missing flag is enough to publish them.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: forTypes(AWS.publicAccessBlock, (props, args, report) => {
    const off = PUBLIC_ACCESS_FLAGS.filter((flag) => !isUnknown(props[flag]) && props[flag] !== true);
    if (off.length > 0) {
      report(`${label(args.type, args.name)} leaves ${off.join(", ")} unset or false; set all four flags to true.`);
    }
  }),
};

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

/** Problems with server-side encryption rules, as sentences' tails; empty when fine or unknown. */
function encryptionProblems(rules: unknown): string[] {
  if (isUnknown(rules)) return [];
  const list = asArray(rules) ?? [];
  if (list.length === 0) return ["has no encryption rule"];
  const problems: string[] = [];
  list.forEach((rule, i) => {
    const algorithm = at(rule, "applyServerSideEncryptionByDefault.sseAlgorithm");
    if (isUnknown(algorithm)) return;
    if (typeof algorithm !== "string" || !SSE_ALGORITHMS.includes(algorithm)) {
      problems.push(`has rule ${i + 1} without a default encryption algorithm (got ${show(algorithm)}, expected one of ${SSE_ALGORITHMS.join(", ")})`);
    }
  });
  return problems;
}

export const s3EncryptionConfigured: ResourceValidationPolicy = {
  name: "aws-s3-encryption-configured",
  description:
    "S3 server-side encryption configurations apply a default algorithm (SSE-S3 or SSE-KMS) in every rule, so every stored image is encrypted at rest whatever the uploader sends.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: [
    forTypes(AWS.encryption, (props, args, report) => {
      for (const problem of encryptionProblems(props.rules)) report(`${label(args.type, args.name)} ${problem}.`);
    }),
    forTypes(AWS.bucket, (props, args, report) => {
      const inline = props.serverSideEncryptionConfiguration;
      if (inline === undefined || isUnknown(inline)) return;
      const rule = at(inline, "rule");
      for (const problem of encryptionProblems(isUnknown(rule) ? rule : rule === undefined ? [] : [rule])) {
        report(`${label(args.type, args.name)} has an inline encryption configuration that ${problem}.`);
      }
    }),
  ],
};

/** Bucket and the values other resources use to point at it (`bucket` input = the bucket name = its id). */
function bucketKeys(bucket: StackResource): unknown[] {
  return [bucket.props.bucket, bucket.props.id];
}

/**
 * Reports each bucket of the stack that no resource of `types` points at (through
 * `bucket`) with `accepts` true, unless the bucket carries an inline setting that
 * `inline` accepts. Buckets whose link is unknown at preview are skipped.
 */
function eachBucketNeeds(
  args: StackValidationArgs,
  report: ReportViolation,
  types: readonly string[],
  accepts: (settings: StackResource) => boolean,
  inline: (bucket: StackResource) => boolean,
  message: (bucket: StackResource, found: StackResource[]) => string,
  which: (bucket: StackResource) => boolean = () => true,
): void {
  const settings = stackResources(args, types);
  for (const bucket of stackResources(args, AWS.bucket)) {
    if (!which(bucket) || inline(bucket)) continue;
    const linked = findLinked(settings, "bucket", bucket, bucketKeys(bucket));
    if (isUnknown(linked)) continue;
    if (!linked.some(accepts)) report(message(bucket, linked), bucket.resource.urn);
  }
}

export const s3BucketPublicAccessBlocked: StackValidationPolicy = {
  name: "aws-s3-bucket-public-access-blocked",
  description:
    "Every S3 bucket has a public access block, because the account-level block may be off and images must never become public by a later policy or ACL change.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateStack: (args, report) =>
    eachBucketNeeds(args, report, AWS.publicAccessBlock, () => true, () => false,
      (bucket) => `${label(bucket.resource.type, bucket.resource.name)} has no BucketPublicAccessBlock; add one with all four flags set to true.`),
};

export const s3BucketDefaultEncryption: StackValidationPolicy = {
  name: "aws-s3-bucket-default-encryption",
  description:
    "Every S3 bucket has an explicit server-side encryption configuration, so encryption at rest (and the KMS key, when one is configured) is stated in code rather than left to the account default.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) =>
    eachBucketNeeds(args, report, AWS.encryption, () => true,
      (bucket) => bucket.props.serverSideEncryptionConfiguration !== undefined && bucket.props.serverSideEncryptionConfiguration !== null,
      (bucket) => `${label(bucket.resource.type, bucket.resource.name)} has no BucketServerSideEncryptionConfiguration; add one with SSE-S3 (AES256) or SSE-KMS.`),
};

export const UPLOADS_DEFAULTS = { uploadsNamePattern: "upload" };

function isUploadsBucket(bucket: StackResource, pattern: RegExp): boolean {
  const names = [bucket.resource.name, bucket.props.bucket, bucket.props.bucketPrefix, ...purposeTagValues(bucket.props.tags)];
  return names.some((n) => typeof n === "string" && pattern.test(n));
}

export const s3UploadsVersioning: StackValidationPolicy = {
  name: "aws-s3-uploads-versioning",
  description:
    "The uploads bucket (a bucket whose logical name, bucket name or Name/purpose/role/store tag matches uploadsNamePattern) has versioning Enabled, so an overwritten or deleted original can be recovered: the pipeline promises never to lose an upload.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { uploadsNamePattern: { type: "string", default: UPLOADS_DEFAULTS.uploadsNamePattern } } },
  validateStack: (args, report) => {
    const pattern = new RegExp(configOf(args, UPLOADS_DEFAULTS).uploadsNamePattern, "i");
    eachBucketNeeds(args, report, AWS.versioning,
      (v) => { const status = at(v.props, "versioningConfiguration.status"); return isUnknown(status) || status === "Enabled"; },
      (bucket) => at(bucket.props, "versioning.enabled") === true,
      (bucket, found) => {
        const statuses = found.map((v) => show(at(v.props, "versioningConfiguration.status")));
        return found.length > 0
          ? `${label(bucket.resource.type, bucket.resource.name)} holds uploads but its versioning status is ${statuses.join(", ")}; set versioningConfiguration.status to "Enabled".`
          : `${label(bucket.resource.type, bucket.resource.name)} holds uploads but has no BucketVersioning; add one with status "Enabled".`;
      },
      (bucket) => isUploadsBucket(bucket, pattern));
  },
};

export const s3UploadsAccessLogging: StackValidationPolicy = {
  name: "aws-s3-uploads-access-logging",
  description:
    "The uploads bucket (recognized as for aws-s3-uploads-versioning) has S3 server access logging into another bucket, so who uploaded, read or deleted an original can be audited. A stack with accessLogging off disables this rule in its policy config.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema: { properties: { uploadsNamePattern: { type: "string", default: UPLOADS_DEFAULTS.uploadsNamePattern } } },
  validateStack: (args, report) => {
    const pattern = new RegExp(configOf(args, UPLOADS_DEFAULTS).uploadsNamePattern, "i");
    eachBucketNeeds(args, report, AWS.logging,
      (logging) => { const target = logging.props.targetBucket; return isUnknown(target) || (typeof target === "string" && target.length > 0); },
      (bucket) => (asArray(bucket.props.loggings) ?? []).length > 0,
      (bucket) => `${label(bucket.resource.type, bucket.resource.name)} holds uploads but has no server access logging; add a BucketLogging with a targetBucket (a dedicated log bucket), or set accessLogging to server.`,
      (bucket) => isUploadsBucket(bucket, pattern));
  },
};

function hasTlsOnlyStatement(document: ParsedDocument): boolean {
  return document.kind === "unknown" || (document.kind === "document" && (document.unknownStatements > 0 || document.statements.some(isTlsOnlyStatement)));
}

export const s3BucketTlsOnly: StackValidationPolicy = {
  name: "aws-s3-bucket-tls-only",
  description:
    "Every S3 bucket has a bucket policy that denies requests made without TLS (Deny s3:* when aws:SecureTransport is false), so images and manifests never travel in clear text.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) =>
    eachBucketNeeds(args, report, AWS.bucketPolicy,
      (p) => hasTlsOnlyStatement(parseDocument(p.props.policy)),
      (bucket) => bucket.props.policy !== undefined && hasTlsOnlyStatement(parseDocument(bucket.props.policy)),
      (bucket, found) =>
        `${label(bucket.resource.type, bucket.resource.name)} ${found.length > 0 ? "has a bucket policy without" : "has no bucket policy with"} a statement denying insecure transport; add {"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}} for the bucket and its objects.`),
};

function hasEnabledRule(rules: unknown): boolean {
  if (isUnknown(rules)) return true;
  return (asArray(rules) ?? []).some((rule) => { const status = at(rule, "status"); return isUnknown(status) || status === "Enabled"; });
}

export const s3BucketLifecycle: StackValidationPolicy = {
  name: "aws-s3-bucket-lifecycle",
  description:
    "Every S3 bucket has a lifecycle configuration with at least one enabled rule (expire work files and noncurrent versions, abort incomplete uploads), so storage cost does not grow without bound.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateStack: (args, report) =>
    eachBucketNeeds(args, report, AWS.lifecycle,
      (c) => hasEnabledRule(c.props.rules),
      (bucket) => (asArray(bucket.props.lifecycleRules) ?? []).some((r) => at(r, "enabled") === true),
      (bucket, found) =>
        `${label(bucket.resource.type, bucket.resource.name)} ${found.length > 0 ? "has a lifecycle configuration with no enabled rule" : "has no BucketLifecycleConfiguration"}; add enabled rules that expire temporary objects and noncurrent versions.`),
};

// ---------------------------------------------------------------- Lambda

export const LAMBDA_RUNTIME_DEFAULTS = { additionalRuntimes: [] as string[], asOf: "" };

export const lambdaSupportedRuntime: ResourceValidationPolicy = {
  name: "aws-lambda-supported-runtime",
  description:
    "Lambda functions use a runtime AWS still supports with security patches (see policy/lambdaRuntimes.ts), because deprecated runtimes get no fixes and soon cannot be updated at all.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      additionalRuntimes: { type: "array", items: { type: "string" }, default: [] },
      asOf: { type: "string", description: "Judge deprecation as of this ISO date (e.g. to check a date ahead); empty means today.", default: "" },
    },
  },
  validateResource: forTypes(AWS.lambdaFunction, (props, args, report) => {
    const runtime = props.runtime;
    if (props.packageType === "Image" || typeof runtime !== "string") return; // container images carry their runtime
    const config = configOf(args, LAMBDA_RUNTIME_DEFAULTS);
    const now = config.asOf ? new Date(config.asOf) : new Date();
    const status = runtimeStatus(runtime, now, config.additionalRuntimes);
    if (status.supported) return;
    const family = runtime.replace(/[0-9.]+(\.x|\.al2023|\.al2)?$/, "");
    const choices = supportedRuntimes(now, family);
    const hint = choices.length > 0 ? ` Use ${choices.join(" or ")}.` : "";
    const why = status.reason === "deprecated" ? `which AWS deprecated on ${status.since}` : "which is deprecated or unknown to this policy pack";
    report(`${label(args.type, args.name)} uses runtime "${runtime}", ${why}.${hint}`);
  }),
};

export const lambdaTracingActive: ResourceValidationPolicy = {
  name: "aws-lambda-tracing-active",
  description: "Lambda functions have X-Ray tracing Active, so one image's path through the workflow steps can be followed end to end.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: forTypes(AWS.lambdaFunction, (props, args, report) => {
    const mode = at(props, "tracingConfig.mode");
    if (isUnknown(mode) || mode === "Active") return;
    report(`${label(args.type, args.name)} has tracing mode ${show(mode)}; set tracingConfig.mode to "Active".`);
  }),
};

/** Lambda's own limits (the pipeline's config checks the same, components/config.ts); the pack stands alone. */
export const LAMBDA_LIMITS = { minMemoryMb: 128, maxMemoryMb: 10240, maxTimeoutSeconds: 900 };

export const lambdaWithinLimits: ResourceValidationPolicy = {
  name: "aws-lambda-within-limits",
  description: `Lambda functions have a timeout of 1-${LAMBDA_LIMITS.maxTimeoutSeconds} s and ${LAMBDA_LIMITS.minMemoryMb}-${LAMBDA_LIMITS.maxMemoryMb} MB of memory, the bounds Lambda and the pipeline's step configuration accept, so a bad value fails at preview and not halfway through a deployment.`,
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: forTypes(AWS.lambdaFunction, (props, args, report) => {
    const { timeout, memorySize } = props;
    if (typeof timeout === "number" && (timeout < 1 || timeout > LAMBDA_LIMITS.maxTimeoutSeconds)) {
      report(`${label(args.type, args.name)} has a timeout of ${timeout} s; Lambda allows 1 to ${LAMBDA_LIMITS.maxTimeoutSeconds} s.`);
    }
    if (typeof memorySize === "number" && (memorySize < LAMBDA_LIMITS.minMemoryMb || memorySize > LAMBDA_LIMITS.maxMemoryMb)) {
      report(`${label(args.type, args.name)} has ${memorySize} MB of memory; Lambda allows ${LAMBDA_LIMITS.minMemoryMb} to ${LAMBDA_LIMITS.maxMemoryMb} MB.`);
    }
  }),
};

export const lambdaNotPublic: ResourceValidationPolicy = {
  name: "aws-lambda-not-public",
  description:
    "No Lambda function can be invoked by anyone: permissions never grant principal \"*\", grants to AWS services are scoped by sourceArn or sourceAccount (or the service could invoke it for another account), and function URLs require IAM auth.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: [
    forTypes(AWS.lambdaPermission, (props, args, report) => {
      const { principal, sourceArn, sourceAccount, functionUrlAuthType } = props;
      const target = `${label(args.type, args.name)}`;
      if (principal === "*") {
        report(`${target} lets principal "*" (anyone) invoke the function; name the account or service that calls it.`);
      } else if (typeof principal === "string" && principal.endsWith(".amazonaws.com") && sourceArn === undefined && sourceAccount === undefined) {
        report(`${target} lets the service ${principal} invoke the function on behalf of any account; set sourceArn (the calling resource) or sourceAccount.`);
      }
      if (functionUrlAuthType === "NONE") report(`${target} allows unauthenticated function URL calls; use functionUrlAuthType "AWS_IAM".`);
    }),
    forTypes(AWS.lambdaFunctionUrl, (props, args, report) => {
      if (props.authorizationType === "NONE") report(`${label(args.type, args.name)} has authorizationType "NONE", which makes the function public; use "AWS_IAM".`);
    }),
  ],
};

// ---------------------------------------------------------------- Step Functions, SNS, DynamoDB, Logs

const SFN_LOG_LEVELS = ["ALL", "ERROR", "FATAL"];

export const sfnLoggingEnabled: ResourceValidationPolicy = {
  name: "aws-sfn-logging-enabled",
  description:
    "State machines log to CloudWatch Logs at level ALL, ERROR or FATAL, because Express workflows keep no execution history and a failed image is otherwise impossible to diagnose.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: forTypes(AWS.stateMachine, (props, args, report) => {
    const logging = props.loggingConfiguration;
    if (isUnknown(logging)) return;
    if (logging === undefined || logging === null) {
      report(`${label(args.type, args.name)} has no logging configuration; set loggingConfiguration with level ALL, ERROR or FATAL and a log group destination.`);
      return;
    }
    const level = at(logging, "level");
    const destination = at(logging, "logDestination");
    if (!isUnknown(level) && (typeof level !== "string" || !SFN_LOG_LEVELS.includes(level))) {
      report(`${label(args.type, args.name)} has logging level ${show(level)}; set loggingConfiguration.level to ALL, ERROR or FATAL.`);
    }
    if (isUnknown(destination)) return;
    if (typeof destination !== "string" || destination === "") {
      report(`${label(args.type, args.name)} has no log destination; set loggingConfiguration.logDestination to a log group ARN ending in ":*".`);
    } else if (!destination.endsWith(":*")) {
      report(`${label(args.type, args.name)} has log destination "${destination}", which Step Functions rejects; append ":*" to the log group ARN.`);
    }
  }),
};

export const sfnTracingEnabled: ResourceValidationPolicy = {
  name: "aws-sfn-tracing-enabled",
  description: "State machines have X-Ray tracing enabled, so the trace of one image joins the traces of the Lambda steps it ran.",
  enforcementLevel: "mandatory",
  severity: "low",
  validateResource: forTypes(AWS.stateMachine, (props, args, report) => {
    const enabled = at(props, "tracingConfiguration.enabled");
    if (isUnknown(enabled) || enabled === true) return;
    report(`${label(args.type, args.name)} has tracing ${enabled === false ? "disabled" : "unset"}; set tracingConfiguration.enabled to true.`);
  }),
};

export const snsTopicEncrypted: ResourceValidationPolicy = {
  name: "aws-sns-topic-encrypted",
  description: "SNS topics are encrypted with KMS (kmsMasterKeyId, e.g. alias/aws/sns), because notifications carry object keys and job details.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AWS.topic, (props, args, report) => {
    const key = props.kmsMasterKeyId;
    if (isUnknown(key) || (typeof key === "string" && key !== "")) return;
    report(`${label(args.type, args.name)} is not encrypted; set kmsMasterKeyId (e.g. "alias/aws/sns" or the stack's KMS key).`);
  }),
};

export const sqsQueueEncrypted: ResourceValidationPolicy = {
  name: "aws-sqs-queue-encrypted",
  description: "SQS queues are encrypted at rest (SQS-managed SSE or a KMS key), because dead-lettered events name uploads.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AWS.queue, (props, args, report) => {
    const managed = props.sqsManagedSseEnabled;
    const key = props.kmsMasterKeyId;
    if (isUnknown(managed) || isUnknown(key) || managed === true || (typeof key === "string" && key !== "")) return;
    report(`${label(args.type, args.name)} is not encrypted at rest; set sqsManagedSseEnabled to true or kmsMasterKeyId to a KMS key.`);
  }),
};

export const eventTriggerDeadLetter: StackValidationPolicy = {
  name: "aws-event-trigger-dead-letter",
  description:
    "Targets of event-driven EventBridge rules (rules with an event pattern, such as the upload trigger) have a dead-letter queue, so an event that cannot be delivered (the workflow throttled or refused for a day) is kept instead of dropped and the upload is not silently lost. Scheduled rules are exempt: the next tick runs again.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const targets = stackResources(args, AWS.eventTarget);
    for (const rule of stackResources(args, AWS.eventRule)) {
      if (rule.props.eventPattern === undefined || rule.props.eventPattern === null) continue;
      const linked = findLinked(targets, "rule", rule, [rule.props.name, rule.props.id, rule.resource.name]);
      if (isUnknown(linked)) continue;
      for (const target of linked) {
        const arn = at(target.props, "deadLetterConfig.arn");
        if (isUnknown(arn) || (typeof arn === "string" && arn !== "")) continue;
        report(
          `${label(target.resource.type, target.resource.name)} delivers events of ${resourceLabel(rule.resource.type, rule.resource.name)} without a dead-letter queue; set deadLetterConfig.arn to an encrypted SQS queue the rule may send to.`,
          target.resource.urn,
        );
      }
    }
  },
};

/** True when the alarm watches `machine`: its dimensions came from the machine (preview) or name its ARN; unknown counts as yes. */
function watchesStateMachine(alarm: StackResource, machine: StackResource): boolean {
  const dependencies = alarm.resource.propertyDependencies?.dimensions ?? [];
  if (dependencies.some((d) => d.urn === machine.resource.urn)) return true;
  const arn = at(alarm.props, "dimensions.StateMachineArn");
  if (isUnknown(arn)) return true;
  return typeof arn === "string" && [machine.props.arn, machine.props.id].some((value) => value === arn);
}

function hasAlarmAction(alarm: StackResource): boolean {
  if (alarm.props.actionsEnabled === false) return false;
  const actions = alarm.props.alarmActions;
  return isUnknown(actions) || (asArray(actions) ?? []).length > 0;
}

export const sfnFailureAlarm: StackValidationPolicy = {
  name: "aws-state-machine-failure-alarm",
  description:
    "Every Step Functions state machine has a CloudWatch alarm on its ExecutionsFailed metric (namespace AWS/States, dimension StateMachineArn) with an alarm action, so failing uploads page someone instead of piling up unseen.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const alarms = stackResources(args, AWS.metricAlarm).filter((a) => {
      const { namespace, metricName } = a.props;
      return (isUnknown(namespace) || namespace === "AWS/States") && (isUnknown(metricName) || metricName === "ExecutionsFailed");
    });
    for (const machine of stackResources(args, AWS.stateMachine)) {
      const what = label(machine.resource.type, machine.resource.name);
      const watching = alarms.filter((a) => watchesStateMachine(a, machine));
      if (watching.length === 0) {
        report(`${what} has no CloudWatch alarm on ExecutionsFailed; add an aws.cloudwatch.MetricAlarm (namespace AWS/States, metricName ExecutionsFailed, dimensions { StateMachineArn }) with alarmActions.`, machine.resource.urn);
      } else if (!watching.some(hasAlarmAction)) {
        report(`${what} has an ExecutionsFailed alarm (${watching.map((a) => a.resource.name).join(", ")}) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.`, machine.resource.urn);
      }
    }
  },
};

/** True when `value` (from `from`'s `property`) came from `target` (its dependencies, at preview) or equals one of `targetValues`. */
function linkedTo(from: StackResource, property: string, value: unknown, target: StackResource, targetValues: unknown[]): boolean {
  if ((from.resource.propertyDependencies?.[property] ?? []).some((d) => d.urn === target.resource.urn)) return true;
  return typeof value === "string" && value !== "" && targetValues.some((v) => typeof v === "string" && v === value);
}

/** The alarms on `namespace`/`metricName` (unknown counts as a match) whose `dimension` points at `target`. */
function alarmsWatching(alarms: StackResource[], namespace: string, metricName: string, dimension: string, target: StackResource, targetValues: unknown[]): StackResource[] {
  return alarms.filter((a) => {
    const { namespace: ns, metricName: metric } = a.props;
    if (!(isUnknown(ns) || ns === namespace) || !(isUnknown(metric) || metric === metricName)) return false;
    const named = at(a.props, `dimensions.${dimension}`);
    // Dimensions unknown at preview may name the target: the rule judges them once known.
    return isUnknown(named) || linkedTo(a, "dimensions", named, target, targetValues);
  });
}

export const asyncFunctionErrorAlarm: StackValidationPolicy = {
  name: "aws-async-function-error-alarm",
  description:
    "Every Lambda function an EventBridge rule invokes (erasure on delete, the stuck-job sweep) has a CloudWatch alarm on its Errors metric (namespace AWS/Lambda, dimension FunctionName) with an alarm action: nobody waits on its answer, so a failing erasure leaves a deleted upload's renditions behind unseen.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const targets = stackResources(args, AWS.eventTarget);
    const alarms = stackResources(args, AWS.metricAlarm);
    for (const fn of stackResources(args, AWS.lambdaFunction)) {
      const invoked = targets.some((t) => linkedTo(t, "arn", t.props.arn, fn, [fn.props.arn]));
      if (!invoked) continue;
      const what = label(fn.resource.type, fn.resource.name);
      const watching = alarmsWatching(alarms, "AWS/Lambda", "Errors", "FunctionName", fn, [fn.props.name, fn.props.id]);
      if (watching.length === 0) {
        report(`${what} is invoked by an EventBridge rule and has no CloudWatch alarm on its Errors; add an aws.cloudwatch.MetricAlarm (namespace AWS/Lambda, metricName Errors, dimensions { FunctionName }) with alarmActions.`, fn.resource.urn);
      } else if (!watching.some(hasAlarmAction)) {
        report(`${what} has an Errors alarm (${watching.map((a) => a.resource.name).join(", ")}) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.`, fn.resource.urn);
      }
    }
  },
};

export const deadLetterQueueAlarm: StackValidationPolicy = {
  name: "aws-dead-letter-queue-alarm",
  description:
    "Every SQS queue that receives dead letters (an EventBridge target's deadLetterConfig, a Lambda's on-failure destination) has a CloudWatch alarm on its ApproximateNumberOfMessagesVisible (namespace AWS/SQS, dimension QueueName) with an alarm action, so an upload that started no job or a deletion that was not erased is seen before the queue's retention drops it.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const senders = [
      ...stackResources(args, AWS.eventTarget).map((t) => ({ from: t, property: "deadLetterConfig", value: at(t.props, "deadLetterConfig.arn") })),
      ...stackResources(args, AWS.lambdaInvokeConfig).map((c) => ({ from: c, property: "destinationConfig", value: at(c.props, "destinationConfig.onFailure.destination") })),
    ].filter(({ value }) => value !== undefined);
    const alarms = stackResources(args, AWS.metricAlarm);
    for (const queue of stackResources(args, AWS.queue)) {
      const receives = senders.some(({ from, property, value }) => linkedTo(from, property, value, queue, [queue.props.arn]));
      if (!receives) continue;
      const what = label(queue.resource.type, queue.resource.name);
      const watching = alarmsWatching(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, [queue.props.name]);
      if (watching.length === 0) {
        report(`${what} receives dead letters and has no CloudWatch alarm on its depth; add an aws.cloudwatch.MetricAlarm (namespace AWS/SQS, metricName ApproximateNumberOfMessagesVisible, dimensions { QueueName }, threshold 0) with alarmActions.`, queue.resource.urn);
      } else if (!watching.some(hasAlarmAction)) {
        report(`${what} has a depth alarm (${watching.map((a) => a.resource.name).join(", ")}) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.`, queue.resource.urn);
      }
    }
  },
};

export const dynamodbPointInTimeRecovery: ResourceValidationPolicy = {
  name: "aws-dynamodb-point-in-time-recovery",
  description: "DynamoDB tables have point-in-time recovery enabled, so the job store can be restored after a bad write or a deleted item.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AWS.table, (props, args, report) => {
    const enabled = at(props, "pointInTimeRecovery.enabled");
    if (isUnknown(enabled) || enabled === true) return;
    report(`${label(args.type, args.name)} has point-in-time recovery ${enabled === false ? "disabled" : "unset"}; set pointInTimeRecovery.enabled to true.`);
  }),
};

export const logGroupRetention: ResourceValidationPolicy = {
  name: "aws-log-group-retention",
  description: "CloudWatch log groups set retentionInDays, because the default keeps logs (and their cost, and any personal data in them) forever.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: forTypes(AWS.logGroup, (props, args, report) => {
    const days = props.retentionInDays;
    if (isUnknown(days) || (typeof days === "number" && days > 0)) return;
    report(`${label(args.type, args.name)} keeps logs forever (retentionInDays ${show(days)}); set retentionInDays, e.g. 14.`);
  }),
};

// ---------------------------------------------------------------- IAM

/** Identity-policy documents of a resource with where they come from. */
function identityDocuments(type: string, props: Props): { where: string; document: ParsedDocument }[] {
  if ((AWS.iamPolicyDocument as readonly string[]).includes(type)) {
    return props.policy === undefined ? [] : [{ where: "its policy", document: parseDocument(props.policy) }];
  }
  const inline = props.inlinePolicies;
  if (isUnknown(inline)) return [];
  return (asArray(inline) ?? []).map((p, i) => {
    const name = at(p, "name");
    return { where: `its inline policy ${typeof name === "string" ? `"${name}"` : i + 1}`, document: parseDocument(at(p, "policy")) };
  });
}

const IAM_TYPES = [...AWS.iamPolicyDocument, ...AWS.role];

export const iamNoWildcardActions: ResourceValidationPolicy = {
  name: "aws-iam-no-wildcard-actions",
  description:
    "IAM policies never allow \"*\" or a whole service (\"s3:*\") as actions, nor use Allow with NotAction: each step function gets only the calls it makes, so a compromised step cannot delete buckets or read other data.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: forTypes(IAM_TYPES, (props, args, report) => {
    for (const { where, document } of identityDocuments(args.type, props)) {
      if (document.kind === "invalid") {
        report(`${label(args.type, args.name)} cannot be checked because ${where} ${document.reason.replace(/^it /, "")}.`);
        continue;
      }
      if (document.kind !== "document") continue;
      document.statements.forEach((statement, i) => {
        if (!isAllow(statement)) return;
        const wildcards = (statement.actions ?? []).filter(isWildcardAction);
        if (wildcards.length > 0) {
          report(`${label(args.type, args.name)} allows ${wildcards.map((a) => `"${a}"`).join(", ")} in ${statementName(statement, i)} of ${where}; list the specific actions the function calls.`);
        }
        if (statement.notActions !== undefined) {
          report(`${label(args.type, args.name)} uses Allow with NotAction in ${statementName(statement, i)} of ${where}, which grants every other action; list the allowed actions instead.`);
        }
      });
    }
  }),
};

export const IAM_RESOURCES_DEFAULTS = { additionalActionsWithoutResourceLevelPermissions: [] as string[] };

export const iamNoWildcardResources: ResourceValidationPolicy = {
  name: "aws-iam-no-wildcard-resources",
  description:
    "IAM policies allow actions on named resources, never on \"*\", except for actions that have no resource-level permissions (X-Ray segments and sampling, CloudWatch Logs delivery, VPC network interfaces, PutMetricData; see policy/iam.ts), so a step can touch only this pipeline's buckets, table and topic.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: { additionalActionsWithoutResourceLevelPermissions: { type: "array", items: { type: "string" }, default: [] } },
  },
  validateResource: forTypes(IAM_TYPES, (props, args, report) => {
    const extra = configOf(args, IAM_RESOURCES_DEFAULTS).additionalActionsWithoutResourceLevelPermissions;
    for (const { where, document } of identityDocuments(args.type, props)) {
      if (document.kind !== "document") continue; // unreadable documents are reported by aws-iam-no-wildcard-actions
      document.statements.forEach((statement, i) => {
        if (!isAllow(statement)) return;
        if (statement.notResources !== undefined) {
          report(`${label(args.type, args.name)} uses Allow with NotResource in ${statementName(statement, i)} of ${where}, which grants access to every other resource; list the resources instead.`);
          return;
        }
        if (!(statement.resources ?? []).includes("*")) return;
        const scoped = (statement.actions ?? []).filter((a) => !allowsResourceWildcard(a, extra));
        if (scoped.length > 0) {
          report(`${label(args.type, args.name)} allows ${scoped.map((a) => `"${a}"`).join(", ")} on every resource ("*") in ${statementName(statement, i)} of ${where}; name the bucket, table, topic or function ARNs instead.`);
        }
      });
    }
  }),
};

// ---------------------------------------------------------------- CloudFront (delivery)

/** Security policies with TLS 1.2 or later as minimum: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html */
export const MODERN_CLOUDFRONT_TLS = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];
const HTTPS_VIEWER_POLICIES = ["redirect-to-https", "https-only"];

export const cloudfrontHttpsOnly: ResourceValidationPolicy = {
  name: "aws-cloudfront-https-only",
  description:
    "CloudFront distributions serve viewers over HTTPS only (every cache behavior redirect-to-https or https-only) with a modern TLS policy (TLSv1.2_2021 or later with a custom certificate; on production stacks a custom certificate is required, since the default *.cloudfront.net certificate always allows TLSv1), so renditions never travel in clear text or over weak TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      productionTags: { type: "array", items: { type: "string" }, default: PRODUCTION_DEFAULTS.productionTags },
      productionValues: { type: "array", items: { type: "string" }, default: PRODUCTION_DEFAULTS.productionValues },
    },
  },
  validateResource: forTypes(AWS.distribution, (props, args, report) => {
    const behaviors = [{ where: "defaultCacheBehavior", behavior: props.defaultCacheBehavior }, ...(asArray(props.orderedCacheBehaviors) ?? []).map((behavior, i) => ({ where: `orderedCacheBehaviors[${i}]`, behavior }))];
    for (const { where, behavior } of behaviors) {
      const policy = at(behavior, "viewerProtocolPolicy");
      if (isUnknown(policy) || (typeof policy === "string" && HTTPS_VIEWER_POLICIES.includes(policy))) continue;
      report(`${label(args.type, args.name)} has ${where}.viewerProtocolPolicy ${show(policy)}; set it to "redirect-to-https" or "https-only".`);
    }
    const certificate = props.viewerCertificate;
    if (isUnknown(certificate)) return;
    const custom = at(certificate, "acmCertificateArn") ?? at(certificate, "iamCertificateId");
    if (custom !== undefined) {
      const minimum = at(certificate, "minimumProtocolVersion");
      if (isUnknown(minimum) || (typeof minimum === "string" && MODERN_CLOUDFRONT_TLS.includes(minimum))) return;
      report(`${label(args.type, args.name)} has viewerCertificate.minimumProtocolVersion ${show(minimum)}; set it to "TLSv1.2_2021" or later.`);
      return;
    }
    const tags = props.tags;
    if (!isUnknown(tags) && isProductionTagged(tags, configOf(args, PRODUCTION_DEFAULTS))) {
      report(`${label(args.type, args.name)} uses the default *.cloudfront.net certificate on a production stack, which always allows TLSv1; set image-pipeline:delivery.domain and delivery.certificateArn (an ACM certificate in us-east-1).`);
    }
  }),
};

/** An S3 REST endpoint (`<bucket>.s3.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com`); website endpoints are `s3-website`. */
const S3_REST_ORIGIN = /\.s3(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;
const S3_WEBSITE_ORIGIN = /\.s3-website[.-]/;

export const cloudfrontPrivateOrigin: ResourceValidationPolicy = {
  name: "aws-cloudfront-private-origin",
  description:
    "CloudFront reads S3 origins through Origin Access Control (originAccessControlId set) and never through a public S3 website endpoint, so the bucket stays private and only the distribution can read it.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AWS.distribution, (props, args, report) => {
    const origins = props.origins;
    if (isUnknown(origins)) return;
    (asArray(origins) ?? []).forEach((origin, i) => {
      const domain = at(origin, "domainName");
      if (isUnknown(domain) || typeof domain !== "string") return;
      if (S3_WEBSITE_ORIGIN.test(domain)) {
        report(`${label(args.type, args.name)} reads origins[${i}] from the S3 website endpoint ${show(domain)}, which requires a public bucket; use the bucket's REST endpoint with Origin Access Control.`);
        return;
      }
      if (!S3_REST_ORIGIN.test(domain)) return;
      const oac = at(origin, "originAccessControlId");
      if (isUnknown(oac) || (typeof oac === "string" && oac.length > 0)) return;
      report(`${label(args.type, args.name)} reads the S3 origin ${show(domain)} (origins[${i}]) without originAccessControlId; add an aws.cloudfront.OriginAccessControl and a bucket policy for cloudfront.amazonaws.com with AWS:SourceArn.`);
    });
  }),
};

/** A principal of everyone: "*" or {"AWS": "*"} (or a list holding "*"). */
function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  const aws = asRecord(principal)?.AWS;
  return aws === "*" || (Array.isArray(aws) && aws.includes("*"));
}

export const s3NoPublicBucketPolicy: ResourceValidationPolicy = {
  name: "aws-s3-no-public-bucket-policy",
  description:
    "S3 bucket policies never allow everyone (Principal \"*\"), because renditions are served through CloudFront's Origin Access Control and uploads through presigned requests: a public-read statement would bypass both.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: forTypes(AWS.bucketPolicy, (props, args, report) => {
    const policy = props.policy;
    if (isUnknown(policy)) return;
    const document = asRecord(jsonValue(policy));
    (asArray(document?.Statement) ?? []).forEach((statement, i) => {
      const record = asRecord(statement);
      if (!record || record.Effect !== "Allow" || !isEveryone(record.Principal)) return;
      report(`${label(args.type, args.name)} allows everyone (Principal "*") in statement ${show(record.Sid ?? i + 1)}; grant a named principal (e.g. cloudfront.amazonaws.com with AWS:SourceArn) instead.`);
    });
  }),
};

export const awsResourcePolicies = [
  s3PublicAccessBlockComplete,
  s3EncryptionConfigured,
  lambdaSupportedRuntime,
  lambdaTracingActive,
  lambdaWithinLimits,
  lambdaNotPublic,
  sfnLoggingEnabled,
  sfnTracingEnabled,
  snsTopicEncrypted,
  sqsQueueEncrypted,
  dynamodbPointInTimeRecovery,
  logGroupRetention,
  iamNoWildcardActions,
  iamNoWildcardResources,
  cloudfrontHttpsOnly,
  cloudfrontPrivateOrigin,
  s3NoPublicBucketPolicy,
];

export const awsStackPolicies = [s3BucketPublicAccessBlocked, s3BucketDefaultEncryption, s3UploadsVersioning, s3UploadsAccessLogging, s3BucketTlsOnly, s3BucketLifecycle, eventTriggerDeadLetter, sfnFailureAlarm, asyncFunctionErrorAlarm, deadLetterQueueAlarm];

export const awsPolicies = [...awsResourcePolicies, ...awsStackPolicies];
