// Production: deployed from main through the protected `production` environment. Tenant-specific
// values come from the environment (the GitHub environment's variables; see docs/DEPLOYMENT.md).
using '../main.bicep'

param environmentName = 'production'
param storageSku = 'Standard_ZRS'
param maximumInstanceCount = 40
param logRetentionDays = 90
param enablePurgeProtection = true

param dataverseUrl = readEnvironmentVariable('DATAVERSE_URL')
param dataverseAppUserId = readEnvironmentVariable('DATAVERSE_APP_USER_ID', '')
param webhookAuthType = 'WebhookKey'
param mailSender = readEnvironmentVariable('MAIL_SENDER', '')
param practiceOwnerEmail = readEnvironmentVariable('PRACTICE_OWNER_EMAIL', '')
// Flex Consumption runs timers in UTC: 07:00 UTC is 08:00 in Central Europe in winter, 09:00 in summer.
param remindersSchedule = readEnvironmentVariable('REMINDERS_SCHEDULE', '0 0 7 * * *')
param timeZone = readEnvironmentVariable('WEBSITE_TIME_ZONE', 'Europe/Berlin')
param rollbackRetentionDays = 30
// AzureStorage or DurableTaskScheduler, and the scheduler's billing (docs/DEPLOYMENT.md, "Choosing the durable backend").
param durableBackend = readEnvironmentVariable('DURABLE_BACKEND', 'AzureStorage')
param schedulerSku = readEnvironmentVariable('DURABLE_TASK_SCHEDULER_SKU', 'Consumption')
