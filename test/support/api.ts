import type { FastifyInstance } from 'fastify';

/** Registers an account through the API and returns its key. */
export async function register(app: FastifyInstance, email = 'dave@example.com'): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/register/',
    payload: { name: 'Dave', last_name: 'Mustaine', email },
  });
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  return response.json<string>();
}

/** Registers an account over real HTTP with a service listening at `base` (a started process), and returns its key. */
export async function registerOver(base: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' }),
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as string;
}

/** A multipart/form-data body as curl's --form sends it. */
export function multipartBody(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  const boundary = '----smsTestBoundary7MA4YWxk';
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return {
    payload: `${parts.join('')}--${boundary}--\r\n`,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
