import type { PolicyProviderResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asRecord, configOf, isUnknown, jsonValue, normalizeRegion, plain, propsOf, type Props } from "./support";
import { AWS_PROVIDER, AWS_TAGGABLE, AZURE_PROVIDER, AZURE_TAGGABLE } from "./types";

/** Rules that hold on both clouds: tagging and data residency. */

/**
 * `aws.lambda.Function "resize"` for a type token and a logical name: the SDK
 * class path users write in their program, so a message points at the code.
 */
export function resourceLabel(type: string, name: string): string {
  const [pkg, mod = "", kind = type] = type.split(":");
  const module = mod.split("/")[0];
  const path = pkg === "azure-native" ? `azure-native.${module}.${kind}` : `${pkg}.${module}.${kind}`;
  return `${path} "${name}"`;
}

export const REQUIRED_TAGS_DEFAULTS = {
  requiredTags: ["project", "stack", "data-classification"],
  dataClassifications: ["public", "internal", "confidential", "restricted"],
  additionalTaggableTypes: [] as string[],
};

const UNKNOWN_TAGS = Symbol("default tags unknown");

/** Tags a provider adds to every resource it manages (AWS `defaultTags`); a JSON text or an object. */
function providerDefaultTags(provider: PolicyProviderResource | undefined): Props | undefined | typeof UNKNOWN_TAGS {
  if (!provider || !provider.type.startsWith(AWS_PROVIDER)) return undefined;
  const props = asRecord(plain(() => provider.props));
  if (!props) return undefined;
  const defaultTags = props.defaultTags;
  if (isUnknown(defaultTags)) return UNKNOWN_TAGS;
  const parsed = asRecord(jsonValue(defaultTags));
  const tags = parsed?.tags;
  if (isUnknown(tags)) return UNKNOWN_TAGS;
  return asRecord(tags);
}

export const requiredTags: ResourceValidationPolicy = {
  name: "required-tags",
  description:
    "Taggable resources carry the project, stack and data-classification tags (on the resource or through the AWS provider's defaultTags), so cost reports, ownership and data handling can be traced for every resource.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema: {
    properties: {
      requiredTags: { type: "array", items: { type: "string" }, default: REQUIRED_TAGS_DEFAULTS.requiredTags },
      dataClassifications: { type: "array", items: { type: "string" }, default: REQUIRED_TAGS_DEFAULTS.dataClassifications },
      additionalTaggableTypes: { type: "array", items: { type: "string" }, default: [] },
    },
  },
  validateResource: (args, report) => {
    const config = configOf(args, REQUIRED_TAGS_DEFAULTS);
    const taggable = [...AWS_TAGGABLE, ...AZURE_TAGGABLE, ...config.additionalTaggableTypes];
    if (!taggable.includes(args.type)) return;

    const own = propsOf(args).tags;
    if (isUnknown(own)) return; // computed tags: checked again at `pulumi up`, when known
    const fromProvider = providerDefaultTags(args.provider);
    const tags: Props = { ...(fromProvider === UNKNOWN_TAGS ? {} : fromProvider ?? {}), ...(asRecord(own) ?? {}) };

    const present = (key: string) => isUnknown(tags[key]) || (typeof tags[key] === "string" && (tags[key] as string).trim() !== "");
    const missing = config.requiredTags.filter((key) => !present(key));
    const label = resourceLabel(args.type, args.name);
    if (missing.length > 0 && fromProvider !== UNKNOWN_TAGS) {
      const where = args.type.startsWith("aws:") ? "on the resource or in the AWS provider's defaultTags" : "on the resource";
      report(`The ${label} is missing the required tag${missing.length > 1 ? "s" : ""} ${missing.map((k) => `"${k}"`).join(", ")}; set ${missing.length > 1 ? "them" : "it"} ${where}.`);
    }
    const classification = tags["data-classification"];
    if (config.requiredTags.includes("data-classification") && typeof classification === "string" && classification.trim() !== "" && !config.dataClassifications.includes(classification)) {
      report(`The ${label} has data-classification "${classification}", which is not one of ${config.dataClassifications.join(", ")}.`);
    }
  },
};

/** EU regions (EU member states) on both clouds: data residency by default. */
export const ALLOWED_REGIONS_DEFAULTS = {
  allowedRegions: [
    "eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2",
    "westeurope", "northeurope", "francecentral", "francesouth", "germanywestcentral", "germanynorth",
    "swedencentral", "italynorth", "polandcentral", "spaincentral",
  ],
};

/** Azure resources that are not placed in a region at all. */
const REGIONLESS_LOCATIONS = ["global"];

export const allowedRegions: StackValidationPolicy = {
  name: "allowed-regions",
  description:
    "Every AWS provider region and every Azure location is in the allowed-regions list (EU regions by default), so images and job records stay where data-residency rules require.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      allowedRegions: { type: "array", items: { type: "string" }, default: ALLOWED_REGIONS_DEFAULTS.allowedRegions },
    },
  },
  validateStack: (args, report) => {
    const allowed = configOf(args, ALLOWED_REGIONS_DEFAULTS).allowedRegions.map(normalizeRegion);
    const allowedText = configOf(args, ALLOWED_REGIONS_DEFAULTS).allowedRegions.join(", ");
    const isAllowed = (region: string) => allowed.includes(normalizeRegion(region)) || REGIONLESS_LOCATIONS.includes(normalizeRegion(region));

    // Providers: listed as resources, or only referenced by the resources they manage (default providers).
    const providers = new Map<string, { type: string; name: string; urn: string; props: Props }>();
    for (const resource of args.resources) {
      if (resource.type === AWS_PROVIDER || resource.type === AZURE_PROVIDER) {
        providers.set(resource.urn, { type: resource.type, name: resource.name, urn: resource.urn, props: propsOf(resource) });
      }
      const provider = resource.provider;
      if (provider && !providers.has(provider.urn) && (provider.type === AWS_PROVIDER || provider.type === AZURE_PROVIDER)) {
        providers.set(provider.urn, { type: provider.type, name: provider.name, urn: provider.urn, props: asRecord(plain(() => provider.props)) ?? {} });
      }
    }
    const providerRegion = (type: string, props: Props): unknown => (type === AWS_PROVIDER ? props.region : props.location);
    for (const provider of providers.values()) {
      const region = providerRegion(provider.type, provider.props);
      if (typeof region === "string" && region !== "" && !isAllowed(region)) {
        const key = provider.type === AWS_PROVIDER ? "aws:region" : "azure-native:location";
        report(`The ${provider.type.split(":").pop()} provider "${provider.name}" deploys to "${region}", which is not an allowed region (${allowedText}); set ${key} (or the provider's ${provider.type === AWS_PROVIDER ? "region" : "location"}) to an allowed one.`, provider.urn);
      }
    }

    // Resources placed explicitly: AWS `region` overrides (aws 7), Azure `location`.
    for (const resource of args.resources) {
      const isAws = resource.type.startsWith("aws:");
      if (!isAws && !resource.type.startsWith("azure-native:")) continue;
      const props = propsOf(resource);
      const region = isAws ? props.region : props.location;
      if (typeof region !== "string" || region === "" || isAllowed(region)) continue;
      // An AWS resource's computed `region` repeats its provider's, already reported above.
      const provider = resource.provider ? providers.get(resource.provider.urn) : undefined;
      const inherited = provider ? providerRegion(provider.type, provider.props) : undefined;
      if (typeof inherited === "string" && normalizeRegion(inherited) === normalizeRegion(region)) continue;
      report(`The ${resourceLabel(resource.type, resource.name)} is placed in "${region}", which is not an allowed region (${allowedText}).`, resource.urn);
    }
  },
};

/** How a stack says it is production: one of these tags (components/tags.ts sets `stack`; `environment` comes from config tags) holding one of the values. */
export const PRODUCTION_DEFAULTS = { productionTags: ["environment", "env", "stack"], productionValues: ["production", "prod"] };

/** Whether a resource's tags mark its stack as production (values compared without case). */
export function isProductionTagged(tags: unknown, config: typeof PRODUCTION_DEFAULTS = PRODUCTION_DEFAULTS): boolean {
  const record = asRecord(tags) ?? {};
  const values = config.productionValues.map((value) => value.toLowerCase());
  return config.productionTags.some((key) => typeof record[key] === "string" && values.includes((record[key] as string).toLowerCase()));
}

/** The tag the API's resources carry with the `api.auth` mode (`none` or `jwt`). */
export const API_AUTH_TAG = "api-auth";

export const apiAuthInProduction: ResourceValidationPolicy = {
  name: "api-auth-required-in-production",
  description:
    "The HTTP API (resources tagged api-auth) is not deployed without authentication on a production stack (tag environment, env or stack set to production or prod), because anyone could then upload, read and erase images.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: {
    properties: {
      productionTags: { type: "array", items: { type: "string" }, default: PRODUCTION_DEFAULTS.productionTags },
      productionValues: { type: "array", items: { type: "string" }, default: PRODUCTION_DEFAULTS.productionValues },
    },
  },
  validateResource: (args, report) => {
    const tags = propsOf(args).tags;
    if (isUnknown(tags)) return;
    const record = asRecord(tags);
    if (!record || record[API_AUTH_TAG] !== "none") return;
    if (!isProductionTagged(record, configOf(args, PRODUCTION_DEFAULTS))) return;
    report(
      `The ${resourceLabel(args.type, args.name)} serves the API without authentication (tag ${API_AUTH_TAG} "none") on a stack tagged production; set image-pipeline:api.auth to {jwt: {...}} (README, "Configuration").`,
    );
  },
};

export const commonPolicies = [requiredTags, allowedRegions, apiAuthInProduction];
