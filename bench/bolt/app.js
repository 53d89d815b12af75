// The ack benchmark's peer on Slack's Bolt for JavaScript: the HTTP receiver
// verifies the signature with the same signing secret and /lxc is acked with
// an ephemeral text, as the floor does.
const { App, LogLevel } = require('@slack/bolt');

const port = Number(process.env.PORT || 8091);
const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  // A fixed authorisation: no call to auth.test, nothing leaves the machine.
  authorize: async () => ({ botToken: 'xoxb-bench', botId: 'BBENCH', botUserId: 'UBOT' }),
  endpoints: '/slack/commands',
  logLevel: LogLevel.ERROR,
});

app.command('/lxc', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'ok' });
});

(async () => {
  await app.start({ port, host: '127.0.0.1' });
  console.log(`bolt listening on 127.0.0.1:${port}`);
})();
