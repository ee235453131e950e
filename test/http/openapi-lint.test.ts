/**
 * The served OpenAPI document passes Redocly's `recommended` rules (redocly.yaml) without an error
 * or a warning: what `npx redocly lint` reports, here through its library, so it runs in npm test.
 */
import { lintFromString, loadConfig } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

describe('GET /openapi.json, linted', () => {
  it("when linted with Redocly's recommended rules (redocly.yaml), then it has no error and no warning", async () => {
    const service = await startService('sqlite');
    const response = await service.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);

    const config = await loadConfig({ configPath: 'redocly.yaml' });
    const problems = await lintFromString({ source: response.body, absoluteRef: 'openapi.json', config });
    // One line per problem, as the CLI says it: severity, rule, where, what.
    const report = problems.map(({ severity, ruleId, location, message }) => `${severity} ${ruleId} at ${location[0]?.pointer ?? '#'}: ${message}`);
    expect(report).toEqual([]);

    // And the lint does find what it should: the same document without its servers, or an operation's id, is refused.
    const broken = response.json();
    delete broken.servers;
    delete broken.paths['/api/v1/symbol/{symbol}'].get.operationId;
    const found = await lintFromString({ source: JSON.stringify(broken), absoluteRef: 'openapi.json', config });
    expect(found.map((problem) => `${problem.severity} ${problem.ruleId}`).sort()).toEqual(['error no-empty-servers', 'warn operation-operationId']);
  });
});
