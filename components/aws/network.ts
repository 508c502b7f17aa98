import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { vpcEndpointPolicy } from "./iam";

/**
 * Private networking for the step functions (`vpc: true`): subnets with no
 * route to the internet at all, and endpoints for exactly the services the
 * functions call.
 *
 * Egress decision: no NAT gateway. S3 and DynamoDB are reached through gateway
 * endpoints (free); SNS, the only other service the functions call, through one
 * interface endpoint (~$7/month per AZ, against ~$32/month per NAT gateway plus
 * data processing). CloudWatch Logs and X-Ray segments are shipped by the Lambda
 * service, and KMS is called by S3/DynamoDB/SNS on the functions' behalf, so
 * none of them needs a route. No internet route also means no exfiltration path,
 * and the endpoints' own policies admit only this pipeline's buckets, table and
 * topic (components/aws/iam.ts, vpcEndpointPolicy).
 */

export interface PrivateNetworkArgs {
  /** Tags for every taggable resource (and, through awsx, the VPC's subnets and route tables). */
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Region of the endpoints; default the provider's. */
  region?: pulumi.Input<string>;
  /** Default 2: Lambda spreads across them; more adds endpoint cost. */
  availabilityZones?: number;
  /** Default 10.0.0.0/16. */
  cidrBlock?: string;
  /** What the endpoints admit: the pipeline's buckets, table and topic. */
  allowed: { bucketArns: pulumi.Input<string>[]; tableArn: pulumi.Input<string>; topicArn: pulumi.Input<string> };
}

export class PrivateNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  /** Subnets the functions run in (isolated: no internet route). */
  readonly subnetIds: pulumi.Output<string[]>;
  /** Security group of the functions: HTTPS out to the endpoints only. */
  readonly functionsSecurityGroupId: pulumi.Output<string>;
  readonly endpointIds: pulumi.Output<string>[];

  constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:PrivateNetwork", name, {}, opts);
    const { tags, availabilityZones = 2, cidrBlock = "10.0.0.0/16" } = args;
    const policyFor = (service: "s3" | "dynamodb" | "sns") =>
      pulumi
        .all([pulumi.all(args.allowed.bucketArns), args.allowed.tableArn, args.allowed.topicArn])
        .apply(([bucketArns, tableArn, topicArn]) => JSON.stringify(vpcEndpointPolicy(service, { bucketArns, tableArn, topicArn })));
    const region = args.region ?? aws.getRegionOutput({}, { parent: this }).region;
    const regional = args.region ? { region: args.region } : {};

    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock,
        numberOfAvailabilityZones: availabilityZones,
        subnetStrategy: awsx.ec2.SubnetAllocationStrategy.Auto,
        subnetSpecs: [{ type: awsx.ec2.SubnetType.Isolated, name: "functions", cidrMask: 20 }],
        natGateways: { strategy: awsx.ec2.NatGatewayStrategy.None },
        // Private DNS of the SNS interface endpoint needs both.
        enableDnsHostnames: true,
        enableDnsSupport: true,
        ...regional,
        tags,
      },
      { parent: this },
    );
    this.vpcId = vpc.vpcId;
    this.subnetIds = vpc.isolatedSubnetIds;
    // Gateway endpoints are routes: they must sit in the subnets' route tables.
    const routeTableIds = vpc.routeTables.apply((tables) => pulumi.all(tables.map((table) => table.id)));

    const gateway = (service: "s3" | "dynamodb") =>
      new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId: vpc.vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Gateway",
          routeTableIds,
          policy: policyFor(service),
          ...regional,
          tags,
        },
        { parent: this },
      );
    const s3 = gateway("s3");
    const dynamodb = gateway("dynamodb");

    const functionsGroup = new aws.ec2.SecurityGroup(
      `${name}-functions`,
      {
        vpcId: vpc.vpcId,
        description: "Image pipeline step functions: HTTPS to the VPC endpoints only",
        egress: [
          { protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [s3.prefixListId, dynamodb.prefixListId], description: "S3 and DynamoDB gateway endpoints" },
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidrBlock], description: "Interface endpoints in the VPC" },
        ],
        ...regional,
        tags,
      },
      { parent: this },
    );
    const endpointsGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.vpcId,
        description: "Image pipeline interface endpoints: HTTPS from the step functions",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [functionsGroup.id], description: "Step functions" }],
        ...regional,
        tags,
      },
      { parent: this },
    );
    const sns = new aws.ec2.VpcEndpoint(
      `${name}-sns`,
      {
        vpcId: vpc.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.sns`,
        vpcEndpointType: "Interface",
        subnetIds: vpc.isolatedSubnetIds,
        securityGroupIds: [endpointsGroup.id],
        privateDnsEnabled: true,
        policy: policyFor("sns"),
        ...regional,
        tags,
      },
      { parent: this },
    );

    this.functionsSecurityGroupId = functionsGroup.id;
    this.endpointIds = [s3.id, dynamodb.id, sns.id];
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds, functionsSecurityGroupId: this.functionsSecurityGroupId });
  }
}
