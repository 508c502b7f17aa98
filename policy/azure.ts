import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./common";
import { asArray, asRecord, at, configOf, findLinked, forTypes, isUnknown, linksTo, purposeTagValues, show, stackResources, UNKNOWN, type Props, type StackResource, type Unknown } from "./support";
import { AZURE } from "./types";

/**
 * Azure rules: storage account hardening, blob recovery for uploads, Function
 * App transport, identity and monitoring. Settings are required explicitly,
 * not left to API-version defaults, so the code states the security posture.
 */

const label = (type: string, name: string) => `The ${resourceLabel(type, name)}`;

// ---------------------------------------------------------------- Storage

export const storageHttpsOnly: ResourceValidationPolicy = {
  name: "azure-storage-https-only",
  description: "Storage accounts accept HTTPS only (enableHttpsTrafficOnly true), so images and job records never travel in clear text.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.storageAccount, (props, args, report) => {
    const value = props.enableHttpsTrafficOnly;
    if (isUnknown(value) || value === true) return;
    report(`${label(args.type, args.name)} has enableHttpsTrafficOnly ${show(value)}; set it to true.`);
  }),
};

const TLS_1_2_OR_LATER = ["TLS1_2", "TLS1_3"];

export const storageMinimumTls: ResourceValidationPolicy = {
  name: "azure-storage-minimum-tls-1-2",
  description: "Storage accounts require TLS 1.2 or later (minimumTlsVersion TLS1_2), because TLS 1.0 and 1.1 have known weaknesses and are being retired by Azure.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.storageAccount, (props, args, report) => {
    const value = props.minimumTlsVersion;
    if (isUnknown(value) || (typeof value === "string" && TLS_1_2_OR_LATER.includes(value))) return;
    report(`${label(args.type, args.name)} has minimumTlsVersion ${show(value)}; set it to "TLS1_2".`);
  }),
};

export const storageNoPublicBlobAccess: ResourceValidationPolicy = {
  name: "azure-storage-no-public-blob-access",
  description: "Storage accounts forbid anonymous blob access (allowBlobPublicAccess false), because uploads and renditions are private and a single public container would expose them.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: forTypes(AZURE.storageAccount, (props, args, report) => {
    const value = props.allowBlobPublicAccess;
    if (isUnknown(value) || value === false) return;
    report(`${label(args.type, args.name)} has allowBlobPublicAccess ${show(value)}; set it to false.`);
  }),
};

export const storageNoSharedKeyAccess: ResourceValidationPolicy = {
  name: "azure-storage-no-shared-key-access",
  description: "Storage accounts refuse account-key (shared key) authorization (allowSharedKeyAccess false): the Function App uses its managed identity, and no long-lived key can leak.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.storageAccount, (props, args, report) => {
    const value = props.allowSharedKeyAccess;
    if (isUnknown(value) || value === false) return;
    report(`${label(args.type, args.name)} has allowSharedKeyAccess ${show(value)}; set it to false and use Microsoft Entra ID (managed identity) access.`);
  }),
};

export const UPLOADS_STORAGE_DEFAULTS = { uploadsNamePattern: "upload" };

function accountKeys(account: StackResource): unknown[] {
  return [account.props.name, account.props.accountName];
}

/** An account holds uploads when its name or a tag matches, or a container of it does. */
function holdsUploads(account: StackResource, containers: StackResource[], pattern: RegExp): boolean {
  const matches = (value: unknown) => typeof value === "string" && pattern.test(value);
  if ([account.resource.name, account.props.accountName, ...purposeTagValues(account.props.tags)].some(matches)) return true;
  const linked = findLinked(containers, "accountName", account, accountKeys(account));
  return !isUnknown(linked) && linked.some((c) => matches(c.resource.name) || matches(c.props.containerName));
}

/** Why a BlobServiceProperties does not protect blobs; empty when it does (or is unknown). */
function blobProtectionGaps(props: Props): string[] {
  const gaps: string[] = [];
  const versioning = props.isVersioningEnabled;
  if (!isUnknown(versioning) && versioning !== true) gaps.push(`isVersioningEnabled is ${show(versioning)}`);
  const policy = props.deleteRetentionPolicy;
  const enabled = at(policy, "enabled");
  const days = at(policy, "days");
  if (!isUnknown(enabled) && enabled !== true) gaps.push(`deleteRetentionPolicy.enabled is ${show(enabled)}`);
  else if (enabled === true && !isUnknown(days) && !(typeof days === "number" && days >= 1)) gaps.push(`deleteRetentionPolicy.days is ${show(days)}`);
  return gaps;
}

export const storageUploadsBlobProtection: StackValidationPolicy = {
  name: "azure-storage-uploads-blob-protection",
  description:
    "The storage account holding uploads (its logical or account name, its Name/purpose/role/store tag, or one of its containers' names matches uploadsNamePattern) has blob versioning and blob soft delete enabled (BlobServiceProperties isVersioningEnabled, deleteRetentionPolicy), so an overwritten or deleted original can be recovered.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { uploadsNamePattern: { type: "string", default: UPLOADS_STORAGE_DEFAULTS.uploadsNamePattern } } },
  validateStack: (args, report) => {
    const pattern = new RegExp(configOf(args, UPLOADS_STORAGE_DEFAULTS).uploadsNamePattern, "i");
    const containers = stackResources(args, ["azure-native:storage:BlobContainer"]);
    const services = stackResources(args, AZURE.blobServiceProperties);
    for (const account of stackResources(args, AZURE.storageAccount)) {
      if (!holdsUploads(account, containers, pattern)) continue;
      const linked = findLinked(services, "accountName", account, accountKeys(account));
      if (isUnknown(linked)) continue;
      const what = label(account.resource.type, account.resource.name);
      if (linked.length === 0) {
        report(`${what} holds uploads but has no BlobServiceProperties; add one with isVersioningEnabled true and deleteRetentionPolicy { enabled: true, days: 7 or more }.`, account.resource.urn);
        continue;
      }
      const gaps = linked.map((s) => blobProtectionGaps(s.props));
      if (gaps.every((g) => g.length > 0)) {
        report(`${what} holds uploads but its blob service settings do not protect them: ${gaps[0].join(", ")}; enable versioning and soft delete.`, account.resource.urn);
      }
    }
  },
};

// ---------------------------------------------------------------- Function App

function isFunctionApp(props: Props): boolean {
  const kind = props.kind;
  return typeof kind === "string" && kind.toLowerCase().includes("functionapp");
}

/** A rule for Function Apps (WebApp whose kind contains "functionapp"); plain web apps are not applicable. */
function forFunctionApps(check: (props: Props, label: string, report: (message: string) => void) => void) {
  return forTypes(AZURE.webApp, (props, args, report) => {
    if (isFunctionApp(props)) check(props, label(args.type, args.name), report);
  });
}

export const functionAppHttpsOnly: ResourceValidationPolicy = {
  name: "azure-function-app-https-only",
  description: "Function Apps redirect HTTP to HTTPS (httpsOnly true), so the durable client and webhook endpoints are never reachable in clear text.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forFunctionApps((props, what, report) => {
    if (isUnknown(props.httpsOnly) || props.httpsOnly === true) return;
    report(`${what} has httpsOnly ${show(props.httpsOnly)}; set it to true.`);
  }),
};

export const functionAppFtpsDisabled: ResourceValidationPolicy = {
  name: "azure-function-app-ftps-disabled",
  description: "Function Apps disable FTP and FTPS (siteConfig.ftpsState Disabled): code is deployed from the pipeline, and FTP credentials are one more secret to leak.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forFunctionApps((props, what, report) => {
    const state = at(props, "siteConfig.ftpsState");
    if (isUnknown(state) || state === "Disabled") return;
    report(`${what} has siteConfig.ftpsState ${show(state)}; set it to "Disabled".`);
  }),
};

export const functionAppMinimumTls: ResourceValidationPolicy = {
  name: "azure-function-app-minimum-tls-1-2",
  description: "Function Apps require TLS 1.2 or later (siteConfig.minTlsVersion \"1.2\"), because TLS 1.0 and 1.1 have known weaknesses.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forFunctionApps((props, what, report) => {
    const version = at(props, "siteConfig.minTlsVersion");
    if (isUnknown(version) || version === "1.2" || version === "1.3") return;
    report(`${what} has siteConfig.minTlsVersion ${show(version)}; set it to "1.2".`);
  }),
};

export const functionAppManagedIdentity: ResourceValidationPolicy = {
  name: "azure-function-app-managed-identity",
  description:
    "Function Apps have a system-assigned managed identity (identity type SystemAssigned, alone or with UserAssigned), so they reach storage and Event Grid through role assignments instead of connection strings with keys.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forFunctionApps((props, what, report) => {
    const type = at(props, "identity.type");
    if (isUnknown(type)) return;
    const types = typeof type === "string" ? type.split(",").map((t) => t.trim()) : [];
    if (types.includes("SystemAssigned")) return;
    report(`${what} has identity type ${show(type)}; set identity.type to "SystemAssigned" (or "SystemAssigned, UserAssigned").`);
  }),
};

export const appInsightsWorkspaceBased: ResourceValidationPolicy = {
  name: "azure-app-insights-workspace-based",
  description: "Application Insights components are workspace-based (workspaceResourceId set): classic components are retired, and the workspace sets where telemetry is kept and for how long.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: forTypes(AZURE.appInsights, (props, args, report) => {
    const workspace = props.workspaceResourceId;
    if (isUnknown(workspace) || (typeof workspace === "string" && workspace !== "")) return;
    report(`${label(args.type, args.name)} has no workspaceResourceId; link it to a Log Analytics workspace.`);
  }),
};

const CONNECTION_STRING_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING";

/** The setting's value from siteConfig.appSettings: undefined when absent. */
function siteSetting(app: StackResource, name: string): unknown {
  const settings = at(app.props, "siteConfig.appSettings");
  if (isUnknown(settings)) return settings;
  for (const pair of asArray(settings) ?? []) {
    const key = at(pair, "name");
    if (isUnknown(key)) return key;
    if (key === name) return at(pair, "value") ?? "";
  }
  return undefined;
}

export const functionAppApplicationInsights: StackValidationPolicy = {
  name: "azure-function-app-application-insights",
  description:
    `Function Apps send telemetry to a workspace-based Application Insights component (app setting ${CONNECTION_STRING_SETTING}), so failed orchestrations and slow steps can be found.`,
  enforcementLevel: "mandatory",
  severity: "medium",
  validateStack: (args, report) => {
    const apps = stackResources(args, AZURE.webApp).filter((a) => isFunctionApp(a.props));
    if (apps.length === 0) return;
    const components = stackResources(args, AZURE.appInsights);
    const settingsResources = stackResources(args, AZURE.webAppSettings);
    for (const app of apps) {
      const what = label(app.resource.type, app.resource.name);
      let value = siteSetting(app, CONNECTION_STRING_SETTING);
      if (value === undefined) {
        const linked = findLinked(settingsResources, "name", app, [app.props.name]);
        if (isUnknown(linked)) continue;
        for (const s of linked) {
          const properties = s.props.properties;
          value = isUnknown(properties) ? properties : asRecord(properties)?.[CONNECTION_STRING_SETTING];
          if (value !== undefined) break;
        }
      }
      if (value === undefined || value === "") {
        report(`${what} has no ${CONNECTION_STRING_SETTING} app setting; set it to the Application Insights component's connection string.`, app.resource.urn);
      }
    }
    if (components.length === 0) {
      report(`The stack has Function Apps but no Application Insights component; add a workspace-based azure-native.applicationinsights.Component.`);
    }
  },
};

/** The action groups an alert rule notifies: log alerts name them in actions.actionGroups, metric alerts in actions[].actionGroupId. */
function notifiesActionGroup(rule: StackResource): boolean {
  if (rule.props.enabled === false) return false;
  const actions = rule.props.actions;
  if (isUnknown(actions)) return true;
  const groups = asArray(actions)?.map((action) => at(action, "actionGroupId")) ?? asArray(at(actions, "actionGroups")) ?? [];
  return groups.some((group) => isUnknown(group) || (typeof group === "string" && group !== ""));
}

export const functionAppAlerts: StackValidationPolicy = {
  name: "azure-function-app-alerts",
  description:
    "A stack with Function Apps has an enabled Azure Monitor alert (a log search alert rule or a metric alert) that notifies an action group, so failing orchestrations and functions page someone instead of piling up unseen.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const apps = stackResources(args, AZURE.webApp).filter((a) => isFunctionApp(a.props));
    if (apps.length === 0) return;
    const rules = stackResources(args, [...AZURE.logAlert, ...AZURE.metricAlert]);
    if (rules.some(notifiesActionGroup)) return;
    const why = rules.length === 0 ? "no Azure Monitor alert" : `alerts (${rules.map((r) => r.resource.name).join(", ")}) that notify no action group or are disabled`;
    for (const app of apps) {
      report(`${label(app.resource.type, app.resource.name)} has ${why}; add an azure-native.monitor.ScheduledQueryRule (or MetricAlert) with actions.actionGroups naming an azure-native.monitor.ActionGroup.`, app.resource.urn);
    }
  },
};

/** The KQL of a log alert's conditions; {@link isUnknown} entries stand for queries unknown at preview. */
function alertQueries(rule: StackResource): unknown[] {
  const conditions = at(rule.props, "criteria.allOf");
  if (isUnknown(conditions)) return [conditions];
  return (asArray(conditions) ?? []).map((condition) => at(condition, "query"));
}

/** Enabled alerts notifying an action group whose query names `text` (case-insensitively, as KQL's `has`/`contains` match); unknown counts as yes. */
function alertsNaming(rules: StackResource[], text: string): StackResource[] {
  const wanted = text.toLowerCase();
  return rules.filter((rule) => notifiesActionGroup(rule) && alertQueries(rule).some((q) => isUnknown(q) || (typeof q === "string" && q.toLowerCase().includes(wanted))));
}

/** The first of `paths` set on the subscription: undefined when none, {@link isUnknown} when unknown at preview. */
function firstSet(props: Props, paths: string[]): unknown {
  for (const path of paths) {
    const value = at(props, path);
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export const eventDeliveryAlerts: StackValidationPolicy = {
  name: "azure-event-delivery-alerts",
  description:
    "Every Event Grid subscription that feeds a storage queue has an enabled log alert notifying an action group on that queue's poison queue (<queue>-poison), and every one that dead-letters into a blob container has one on that container's blobs: the queue-triggered functions (the upload starter, erasure on delete) fail into them unseen otherwise.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const rules = stackResources(args, AZURE.logAlert);
    for (const subscription of stackResources(args, AZURE.eventSubscription)) {
      const what = label(subscription.resource.type, subscription.resource.name);
      const queue = firstSet(subscription.props, ["deliveryWithResourceIdentity.destination.queueName", "destination.queueName"]);
      if (typeof queue === "string" && queue !== "" && alertsNaming(rules, `${queue}-poison`).length === 0) {
        report(`${what} delivers to the queue "${queue}" and no enabled alert notifying an action group watches "${queue}-poison"; add an azure-native.monitor.ScheduledQueryRule whose query counts the messages moved there (the queue trigger's MaxDequeueCount trace).`, subscription.resource.urn);
      }
      const container = firstSet(subscription.props, ["deadLetterWithResourceIdentity.deadLetterDestination.blobContainerName", "deadLetterDestination.blobContainerName"]);
      if (typeof container === "string" && container !== "" && alertsNaming(rules, `/${container}/`).length === 0) {
        report(`${what} dead-letters into the container "${container}" and no enabled alert notifying an action group watches its blobs; add an azure-native.monitor.ScheduledQueryRule on StorageBlobLogs writes under "/${container}/".`, subscription.resource.urn);
      }
    }
  },
};

// ---------------------------------------------------------------- Event Grid

export const eventSubscriptionDeadLetter: ResourceValidationPolicy = {
  name: "azure-eventgrid-dead-letter",
  description:
    "Event Grid subscriptions have a dead-letter destination (deadLetterDestination or deadLetterWithResourceIdentity), so an upload event that cannot be delivered within the retry policy is kept in a container instead of dropped, and the upload is not silently lost.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.eventSubscription, (props, args, report) => {
    const withIdentity = at(props, "deadLetterWithResourceIdentity.deadLetterDestination");
    const plain = props.deadLetterDestination;
    if (isUnknown(withIdentity) || isUnknown(plain) || (withIdentity !== undefined && withIdentity !== null) || (plain !== undefined && plain !== null)) return;
    report(`${label(args.type, args.name)} has no dead-letter destination; set deadLetterWithResourceIdentity to a blob container its identity may write to.`);
  }),
};

// ---------------------------------------------------------------- Front Door (delivery)

export const frontDoorRouteHttpsOnly: ResourceValidationPolicy = {
  name: "azure-front-door-https-only",
  description:
    "Front Door routes redirect HTTP to HTTPS (httpsRedirect Enabled) and reach their origin over HTTPS only (forwardingProtocol HttpsOnly), so renditions never travel in clear text at either hop.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.frontDoorRoute, (props, args, report) => {
    const redirect = props.httpsRedirect;
    if (!isUnknown(redirect) && redirect !== "Enabled") report(`${label(args.type, args.name)} has httpsRedirect ${show(redirect)}; set it to "Enabled".`);
    const forwarding = props.forwardingProtocol;
    if (!isUnknown(forwarding) && forwarding !== "HttpsOnly") report(`${label(args.type, args.name)} has forwardingProtocol ${show(forwarding)}; set it to "HttpsOnly".`);
  }),
};

export const frontDoorMinimumTls: ResourceValidationPolicy = {
  name: "azure-front-door-minimum-tls-1-2",
  description: "Front Door custom domains require TLS 1.2 or later (tlsSettings.minimumTlsVersion TLS12), because TLS 1.0 and 1.1 have known weaknesses.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: forTypes(AZURE.frontDoorCustomDomain, (props, args, report) => {
    const value = at(props.tlsSettings, "minimumTlsVersion");
    if (isUnknown(value) || value === "TLS12" || value === "TLS13") return;
    report(`${label(args.type, args.name)} has tlsSettings.minimumTlsVersion ${show(value)}; set it to "TLS12".`);
  }),
};

/** A Blob Storage endpoint as an origin host: `<account>.blob.core.windows.net`. */
const BLOB_ORIGIN = /\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/;

export const frontDoorPrivateOrigin: StackValidationPolicy = {
  name: "azure-front-door-private-origin",
  description:
    "Front Door reaches Blob Storage origins privately: through Private Link (Premium) or with a managed identity on the origin group (origin authentication), so the container needs no anonymous read access.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const groups = stackResources(args, AZURE.frontDoorOriginGroup);
    for (const origin of stackResources(args, AZURE.frontDoorOrigin)) {
      const host = origin.props.hostName;
      if (isUnknown(host) || typeof host !== "string" || !BLOB_ORIGIN.test(host)) continue;
      const privateLink = origin.props.sharedPrivateLinkResource;
      if (isUnknown(privateLink) || privateLink !== undefined) continue;
      const mine = groups.filter((group) => linksTo(origin, "originGroupName", group, [group.props.originGroupName, group.props.name]) !== false);
      const authenticated = mine.some((group) => {
        const type = at(group.props.authentication, "type");
        return isUnknown(type) || (typeof type === "string" && type.length > 0);
      });
      if (authenticated) continue;
      report(
        `${label(origin.resource.type, origin.resource.name)} reads the blob origin ${show(host)} with neither Private Link nor a managed identity on its origin group; set the origin group's authentication (type UserAssignedIdentity, scope https://storage.azure.com/.default) or use Premium with sharedPrivateLinkResource.`,
      );
    }
  },
};

/** Whether `rule` is an access-restriction rule that admits Front Door's backend addresses (service tag AzureFrontDoor.Backend). */
function isFrontDoorTagRule(rule: unknown): boolean {
  const tag = at(rule, "tag");
  const address = at(rule, "ipAddress");
  return typeof tag === "string" && tag.toLowerCase() === "servicetag" && typeof address === "string" && address.toLowerCase() === "azurefrontdoor.backend";
}

/** The X-Azure-FDID values of an access-restriction rule (header names are case-insensitive); {@link isUnknown} when unknown at preview. */
function frontDoorIdsOf(rule: unknown): unknown[] | Unknown {
  const headers = at(rule, "headers");
  if (isUnknown(headers)) return UNKNOWN;
  const entry = Object.entries(asRecord(headers) ?? {}).find(([name]) => name.toLowerCase() === "x-azure-fdid");
  if (!entry) return [];
  if (isUnknown(entry[1])) return UNKNOWN;
  return asArray(entry[1]) ?? [];
}

export const functionAppFrontDoorOnly: StackValidationPolicy = {
  name: "azure-function-app-front-door-only",
  description:
    "A Function App serving the API (tag api-auth) that a Front Door origin fronts admits only Front Door: one Allow rule for the service tag AzureFrontDoor.Backend with the X-Azure-FDID header of a Front Door profile of the stack, no other Allow rule, and default action Deny, so no caller reaches the app's own host and skips the WAF and its rate limit.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const origins = stackResources(args, AZURE.frontDoorOrigin);
    const profileIds = stackResources(args, AZURE.frontDoorProfile).map((profile) => profile.props.frontDoorId);
    const apis = stackResources(args, AZURE.webApp).filter((app) => isFunctionApp(app.props) && asRecord(app.props.tags)?.["api-auth"] !== undefined);
    for (const app of apis) {
      const fronting = findLinked(origins, "hostName", app, [app.props.defaultHostName]);
      if (isUnknown(fronting) || fronting.length === 0) continue;
      const what = label(app.resource.type, app.resource.name);
      const fix = 'allow only service tag AzureFrontDoor.Backend with headers {"x-azure-fdid": [<the profile\'s frontDoorId>]} in siteConfig.ipSecurityRestrictions, and set siteConfig.ipSecurityRestrictionsDefaultAction to "Deny"';
      const defaultAction = at(app.props, "siteConfig.ipSecurityRestrictionsDefaultAction");
      if (!isUnknown(defaultAction) && defaultAction !== "Deny") {
        report(`${what} is a Front Door origin serving the API but lets unmatched requests in (ipSecurityRestrictionsDefaultAction ${show(defaultAction)}); ${fix}.`, app.resource.urn);
      }
      const rules = at(app.props, "siteConfig.ipSecurityRestrictions");
      if (isUnknown(rules)) continue;
      const allows = (asArray(rules) ?? []).filter((rule) => {
        const action = at(rule, "action");
        return isUnknown(action) || (typeof action === "string" && action.toLowerCase() === "allow");
      });
      const frontDoorRules = allows.filter((rule) => isFrontDoorTagRule(rule) && (isUnknown(frontDoorIdsOf(rule)) || (frontDoorIdsOf(rule) as unknown[]).length > 0));
      if (frontDoorRules.length === 0) {
        report(`${what} is a Front Door origin serving the API but has no Allow rule for AzureFrontDoor.Backend with an X-Azure-FDID header, so any Front Door (or anyone) can reach it; ${fix}.`, app.resource.urn);
      }
      for (const rule of allows.filter((r) => !frontDoorRules.includes(r))) {
        report(`${what} is a Front Door origin serving the API but also allows ${show(at(rule, "ipAddress"))} (rule ${show(at(rule, "name"))}), which skips Front Door; ${fix}.`, app.resource.urn);
      }
      const knownIds = profileIds.filter((id): id is string => typeof id === "string");
      if (knownIds.length === 0 || profileIds.some(isUnknown)) continue;
      for (const rule of frontDoorRules) {
        const ids = frontDoorIdsOf(rule);
        if (isUnknown(ids)) continue;
        const foreign = ids.filter((id) => !isUnknown(id) && !knownIds.some((known) => typeof id === "string" && id.toLowerCase() === known.toLowerCase()));
        if (foreign.length > 0) {
          report(`${what} admits X-Azure-FDID ${foreign.map(show).join(", ")}, which is no Front Door profile of this stack (${knownIds.map(show).join(", ")}); ${fix}.`, app.resource.urn);
        }
      }
    }
  },
};

export const azureResourcePolicies = [
  storageHttpsOnly,
  storageMinimumTls,
  storageNoPublicBlobAccess,
  storageNoSharedKeyAccess,
  functionAppHttpsOnly,
  functionAppFtpsDisabled,
  functionAppMinimumTls,
  functionAppManagedIdentity,
  appInsightsWorkspaceBased,
  eventSubscriptionDeadLetter,
  frontDoorRouteHttpsOnly,
  frontDoorMinimumTls,
];

export const azureStackPolicies = [storageUploadsBlobProtection, functionAppApplicationInsights, functionAppAlerts, eventDeliveryAlerts, frontDoorPrivateOrigin, functionAppFrontDoorOnly];

export const azurePolicies = [...azureResourcePolicies, ...azureStackPolicies];
