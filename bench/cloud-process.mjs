// The local Cloudinary server in a child process of its own, so that what a bench measures of
// its process (RSS) is albumkit's alone: `const cloud = await startCloudProcess()` gives the
// server's url and credentials, and `cloud.close()`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] === SELF) {
  const { startLocalCloudinary } = await import('@albumkit/testing');
  const server = await startLocalCloudinary({ notificationRetryDelaysMs: [] });
  process.send({ url: server.url, cloudName: server.cloudName, apiKey: server.apiKey, apiSecret: server.apiSecret });
  process.on('message', async () => {
    await server.close();
    process.exit(0);
  });
}

export async function startCloudProcess() {
  const child = fork(SELF);
  const cloud = await new Promise((resolve) => child.once('message', resolve));
  cloud.close = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.send('stop');
    });
  return cloud;
}
