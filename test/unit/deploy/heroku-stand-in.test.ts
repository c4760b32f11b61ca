import http from 'node:http';
import { checkRequest, checkResponse, matchLinks } from '../../stand-ins/heroku-schema.js';
import { startHerokuStandIn, type HerokuStandIn } from '../../stand-ins/heroku-api.js';

function call(
  standIn: HerokuStandIn,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      `${standIn.url}${path}`,
      {
        method,
        headers: {
          Accept: 'application/vnd.heroku+json; version=3',
          Authorization: `Bearer ${standIn.apiKey}`,
          ...(payload ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.on('data', (c: Buffer) => (text += c.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, headers: response.headers }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

describe('the Heroku schema checks', () => {
  test('documented links are found with their path parameters', () => {
    const links = matchLinks('POST', '/apps/ocpizza/releases');
    expect(links.map((l) => l.title).sort()).toEqual(['Create', 'Rollback']);
    expect(links[0].params).toEqual(['ocpizza']);
    expect(matchLinks('GET', '/apps/ocpizza/nothing-here')).toEqual([]);
  });

  test('a build request without source_blob, or with a numeric version, is refused', () => {
    expect(checkRequest('POST', '/apps/a1b/builds', { buildpacks: [] })).toEqual([
      expect.stringMatching(/source_blob/),
    ]);
    expect(checkRequest('POST', '/apps/a1b/builds', { source_blob: { url: 'https://x', version: 3 } })).not.toEqual([]);
    expect(checkRequest('POST', '/apps/a1b/builds', { source_blob: { url: 'https://x', version: 'abc' } })).toEqual([]);
    expect(checkRequest('PATCH', '/apps/a1b', { maintenance: 'yes' })).not.toEqual([]);
    expect(checkRequest('GET', '/not/heroku', undefined)).toEqual([expect.stringMatching(/not a documented/)]);
    expect(checkRequest('POST', '/sources', { x: 1 })).toEqual([expect.stringMatching(/takes no request body/)]);
  });

  test('answers missing documented fields or carrying undocumented ones are refused', () => {
    expect(checkResponse('GET', '/apps/a1b/config-vars', { 'BAD-NAME': 'x' })).not.toEqual([]);
    expect(checkResponse('GET', '/apps/a1b/config-vars', { GOOD: 'x', NULLED: null })).toEqual([]);
    // strictProperties: an object with a property the schema does not list.
    expect(checkResponse('POST', '/sources', { source_blob: { get_url: 'a', put_url: 'b', extra: 1 } })).toEqual([
      expect.stringMatching(/extra/),
    ]);
    expect(checkResponse('GET', '/apps/a1b/releases/1', { version: 'one' })).not.toEqual([]);
  });
});

describe('the Heroku stand-in', () => {
  let standIn: HerokuStandIn;
  beforeEach(async () => {
    standIn = await startHerokuStandIn();
    standIn.addApp('ocpizza', { configVars: { A: '1' } });
  });
  afterEach(() => standIn.stop());

  test('refuses a request without the key, and records an invalid body as a violation', async () => {
    const anonymous = await call(standIn, 'GET', '/apps/ocpizza', undefined, { Authorization: '' });
    expect(anonymous.status).toBe(401);
    const bad = await call(standIn, 'PATCH', '/apps/ocpizza', { maintenance: 'on' });
    expect(bad.status).toBe(422);
    expect(standIn.violations).toEqual([expect.stringMatching(/maintenance/)]);
  });

  test('records the wrong media type, and answers unknown apps and resources with 404', async () => {
    await call(standIn, 'GET', '/apps/ocpizza', undefined, { Accept: 'application/json' });
    expect(standIn.violations).toEqual([expect.stringMatching(/version 3 media type/)]);
    expect((await call(standIn, 'GET', '/apps/nope')).status).toBe(404);
    expect((await call(standIn, 'GET', '/apps/ocpizza/builds/123')).status).toBe(404);
    expect((await call(standIn, 'GET', '/apps/ocpizza/slugs/123')).status).toBe(404);
    expect((await call(standIn, 'GET', '/apps/ocpizza/releases/9')).status).toBe(404);
  });

  test('pages releases by Range, newest first, with Next-Range', async () => {
    for (let i = 0; i < 5; i++) standIn.seedRelease('ocpizza', `${i}`.repeat(40));
    const page = await call(standIn, 'GET', '/apps/ocpizza/releases', undefined, {
      Range: 'version ..; order=desc, max=2',
    });
    expect(page.status).toBe(206);
    expect((JSON.parse(page.text) as { version: number }[]).map((r) => r.version)).toEqual([5, 4]);
    expect(page.headers['next-range']).toBe('version ..3; order=desc, max=2');
    const all = await call(standIn, 'GET', '/apps/ocpizza/releases', undefined, { Range: 'version 2..4' });
    expect((JSON.parse(all.text) as { version: number }[]).map((r) => r.version)).toEqual([2, 3, 4]);
    expect(standIn.violations).toEqual([]);
  });

  test('a build whose upload is missing fails, and a rollback to an unknown release is a 404', async () => {
    const build = await call(standIn, 'POST', '/apps/ocpizza/builds', {
      source_blob: { url: `${standIn.url}/blobs/none`, version: 'abc' },
    });
    expect(build.status).toBe(201);
    const id = (JSON.parse(build.text) as { id: string }).id;
    let status = 'pending';
    for (let i = 0; i < 100 && status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (JSON.parse((await call(standIn, 'GET', `/apps/ocpizza/builds/${id}`)).text) as { status: string })
        .status;
    }
    expect(status).toBe('failed');
    expect(
      (await call(standIn, 'POST', '/apps/ocpizza/releases', { release: '01234567-89ab-cdef-0123-456789abcdef' }))
        .status,
    ).toBe(404);
    expect(standIn.violations).toEqual([]);
  });

  test('answers a scripted 429 with Retry-After, then a 503, then normally', async () => {
    standIn.failNext({ status: 429, retryAfterSeconds: 2 });
    standIn.failNext({ status: 503, method: 'GET' });
    const limited = await call(standIn, 'GET', '/apps/ocpizza');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect((await call(standIn, 'GET', '/apps/ocpizza')).status).toBe(503);
    expect((await call(standIn, 'GET', '/apps/ocpizza')).status).toBe(200);
  });

  test('refuses a body that is not an object, and an upload with the wrong signature or a content type', async () => {
    expect((await call(standIn, 'PATCH', '/apps/ocpizza', 'x', {})).status).toBe(422);
    const source = JSON.parse((await call(standIn, 'POST', '/sources')).text) as { source_blob: { put_url: string } };
    const put = new URL(source.source_blob.put_url);
    const wrong = await call(standIn, 'PUT', `${put.pathname}?signature=wrong`, undefined, { Authorization: '' });
    expect(wrong.status).toBe(403);
    const typed = await call(standIn, 'PUT', `${put.pathname}${put.search}`, undefined, {
      Authorization: '',
      'Content-Type': 'application/gzip',
    });
    expect(typed.status).toBe(403);
    expect(standIn.violations).toEqual([
      expect.stringMatching(/must be object/),
      expect.stringMatching(/Content-Type/),
    ]);
  });
});
