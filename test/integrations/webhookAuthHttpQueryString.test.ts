import { describeWebhookAuth } from './webhookAuthSuite';

describeWebhookAuth({
  kind: 'HttpQueryString',
  settingName: 'hook',
  secret: 'q-secret',
  endpoint: (secret) => ({
    authtype: 6,
    authvalue: `<settings><setting name="hook" value="${secret}" /></settings>`,
  }),
});
