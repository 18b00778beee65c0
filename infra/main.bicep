// Life Cockpit on Azure: one resource group per environment holding a Function App on the Flex
// Consumption plan (Linux, Node.js), its storage account, Log Analytics with a workspace-based
// Application Insights, a Key Vault (RBAC) for the app's secrets, and a user-assigned managed
// identity that is the app's only credential: for its storage (blobs, queues and tables of the
// Durable Task engine), Key Vault references, and tokens for Dataverse and Microsoft Graph.
// durableBackend chooses where the Durable Task engine keeps its state: in that storage account
// (AzureStorage, the default) or in a Durable Task Scheduler with one task hub (DurableTaskScheduler;
// see docs/DEPLOYMENT.md, "Choosing the durable backend").
//
// Deploy: az deployment group create -g <group> -p infra/parameters/<environment>.bicepparam
// (see docs/DEPLOYMENT.md).

targetScope = 'resourceGroup'

@description('staging or production; names, redundancy and purge protection follow from it.')
@allowed(['staging', 'production'])
param environmentName string

@description('Short lower-case name used in every resource name.')
@minLength(3)
@maxLength(12)
param appName string = 'lifecockpit'

@description('Azure region; must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Node.js major version the Functions host runs the app on.')
@allowed(['20', '22'])
param nodeVersion string = '22'

@description('Flex Consumption instance size in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound on instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Storage redundancy.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Purge protection on the Key Vault (cannot be turned off again once on).')
param enablePurgeProtection bool = environmentName == 'production'

@description('Dataverse environment URL, e.g. https://contoso.crm4.dynamics.com (DATAVERSE_URL).')
param dataverseUrl string

@description('systemuserid of the application user the managed identity is in Dataverse (DATAVERSE_APP_USER_ID; the webhook loop guard). Empty until that user exists.')
param dataverseAppUserId string = ''

@description('How Dataverse presents the webhook secret (DATAVERSE_WEBHOOK_AUTH_TYPE).')
@allowed(['WebhookKey', 'HttpHeader', 'HttpQueryString'])
param webhookAuthType string = 'WebhookKey'

@description('Name of the Key Vault secret holding the webhook secret (DATAVERSE_WEBHOOK_SECRET); set its value with az keyvault secret set.')
param webhookSecretName string = 'dataverse-webhook-secret'

@description('Mailbox the app sends mail as (MAIL_SENDER); empty turns reminders and mail off.')
param mailSender string = ''

@description('Practice owner who receives notes and daily summaries (PRACTICE_OWNER_EMAIL).')
param practiceOwnerEmail string = ''

@description('Daily reminders, six-field NCRONTAB (REMINDERS_SCHEDULE). The Flex Consumption plan runs timers in UTC.')
param remindersSchedule string = '0 0 7 * * *'

@description('IANA time zone of the practice (WEBSITE_TIME_ZONE): the app computes the day and the times in its mails in it.')
param timeZone string = 'UTC'

@description('Days rollback points are kept (LIFECOCKPIT_ROLLBACK_RETENTION_DAYS).')
@minValue(1)
param rollbackRetentionDays int = 30

@description('Where the Durable Task engine keeps orchestration state: AzureStorage (queues, tables and blobs of the storage account) or DurableTaskScheduler (a managed scheduler; higher throughput).')
@allowed(['AzureStorage', 'DurableTaskScheduler'])
param durableBackend string = 'AzureStorage'

@description('Durable Task Scheduler billing (DurableTaskScheduler only): Consumption is paid per action (up to 500 actions/s), Dedicated per capacity unit (2,000 actions/s each).')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('Capacity units of a Dedicated scheduler (three make it highly available). Not used with Consumption.')
@minValue(1)
@maxValue(3)
param schedulerCapacity int = 1

param tags object = {}

var short = environmentName == 'production' ? 'prd' : 'stg'
var suffix = take(uniqueString(subscription().id, resourceGroup().id, appName, environmentName), 6)
var names = {
  identity: 'id-${appName}-${short}'
  storage: take(toLower('st${appName}${short}${suffix}'), 24)
  workspace: 'log-${appName}-${short}'
  insights: 'appi-${appName}-${short}'
  vault: take('kv-${appName}-${short}-${suffix}', 24)
  plan: 'asp-${appName}-${short}'
  site: 'func-${appName}-${short}-${suffix}'
  scheduler: 'dts-${appName}-${short}-${suffix}'
}
var allTags = union(tags, { application: 'life-cockpit', environment: environmentName })

// Containers: the package the plan deploys from, and the app's own (its defaults in settings.ts).
var deploymentContainer = 'app-package'
var appContainers = ['lifecockpit-snapshots', 'lifecockpit-config', 'lifecockpit-rollback']

var useScheduler = durableBackend == 'DurableTaskScheduler'
// The scheduler's task hub is the one host.json names, so the app and the hub cannot disagree.
var taskHubName = loadJsonContent('../host.json').extensions.durableTask.hubName

// Built-in role definitions (their ids are the same in every tenant). Exactly what the app needs:
// on Azure Storage the Durable Task engine keeps its state in blobs, queues and tables (and takes
// blob leases, which need Owner rather than Contributor); with the scheduler that state is in the
// task hub, and the storage account keeps only blobs (the deployment package, the host's timer
// leases and keys, the app's containers). The app reads one secret through a Key Vault reference.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
}
var storageRoles = useScheduler ? [roles.storageBlobDataOwner] : [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: allTags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: { name: storageSku }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Every client (the host, the Durable Task engine, the app, deployments) signs in with Entra ID.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in concat([deploymentContainer], appContainers): {
    parent: blobService
    name: containerName
    properties: { publicAccess: 'None' }
  }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.workspace
  location: location
  tags: allTags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // The app's exporter (applicationinsights 3.x) authenticates with the connection string.
    DisableLocalAuth: false
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  tags: allTags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection can only be switched on; null leaves it off.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    scope: storage
    name: guid(storage.id, identity.id, roleId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = if (useScheduler) {
  name: names.scheduler
  location: location
  tags: allTags
  properties: {
    sku: schedulerSku == 'Dedicated' ? { name: 'Dedicated', capacity: schedulerCapacity } : { name: 'Consumption' }
    // Like the storage account: reachable from the plan's shared outbound addresses, and every caller
    // signs in with Entra ID (a scheduler has no keys). An empty list would refuse every caller.
    ipAllowlist: ['0.0.0.0/0']
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = if (useScheduler) {
  parent: scheduler
  name: taskHubName
}

// Data-plane access to this app's task hub only, not to every hub the scheduler may hold.
resource taskHubDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useScheduler) {
  scope: taskHub
  name: guid(taskHub.id, identity.id, roles.durableTaskDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  tags: allTags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

// Values the app reads (lib/config/settings.ts), plus the host's identity-based storage connection.
// Nothing here is a secret: the one secret is a Key Vault reference resolved with the identity.
var appSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  AZURE_CLIENT_ID: identity.properties.clientId
  DATAVERSE_URL: dataverseUrl
  DATAVERSE_APP_USER_ID: dataverseAppUserId
  DATAVERSE_WEBHOOK_AUTH_TYPE: webhookAuthType
  DATAVERSE_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${webhookSecretName}/)'
  MAIL_SENDER: mailSender
  PRACTICE_OWNER_EMAIL: practiceOwnerEmail
  REMINDERS_SCHEDULE: remindersSchedule
  WEBSITE_TIME_ZONE: timeZone
  LIFECOCKPIT_ROLLBACK_RETENTION_DAYS: string(rollbackRetentionDays)
}

// Added with the scheduler only. host.json is one file for both backends and names no storage
// provider (Azure Storage is the engine's default); an app setting AzureFunctionsJobHost__<path>
// overrides that path of host.json, so these switch the engine to the scheduler. The connection
// names the identity to sign in with; it carries no secret.
var schedulerSettings = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${scheduler.properties.endpoint};Authentication=ManagedIdentity;ClientID=${identity.properties.clientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: names.site
  location: location
  tags: allTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        for setting in items(union(appSettings, useScheduler ? schedulerSettings : {})): {
          name: setting.key
          value: setting.value
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: nodeVersion }
    }
  }
  // The identity must hold its roles before the host first starts, or it fails to reach its state.
  dependsOn: [storageRoleAssignments, vaultSecretsUser, taskHubDataContributor, containers]
}

// Deployments come through Entra ID (the pipeline's OIDC login), never basic-auth publishing.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

output functionAppName string = site.name
output functionAppUrl string = 'https://${site.properties.defaultHostName}'
output keyVaultName string = vault.name
output storageAccountName string = storage.name
output applicationInsightsName string = insights.name
output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output durableBackend string = durableBackend
// For the scheduler's dashboard (docs/DEPLOYMENT.md); empty on Azure Storage.
output durableTaskSchedulerEndpoint string = useScheduler ? scheduler.properties.endpoint : ''
