import { describeWebhookAuth } from './webhookAuthSuite';

describeWebhookAuth({
  kind: 'WebhookKey',
  settingName: 'code',
  secret: 'key-for-dataverse',
  endpoint: (secret) => ({ authtype: 4, authvalue: secret }),
});
