import type { DeployReport, PhaseRecord } from './target.js';

const ICONS: Record<PhaseRecord['status'], string> = { ok: '✅ ok', failed: '❌ failed', skipped: '⏭️ skipped' };

/** Table cells cannot hold a pipe or a new line. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Mermaid labels cannot hold ':' or '#' (they end the task name or start a comment). */
function label(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * A gantt chart of the phases by start and duration (Mermaid's `dateFormat x` reads milliseconds, so the
 * chart shows the real timeline: parallel hosts side by side, the slow phase at a glance).
 */
export function mermaidTimeline(phases: PhaseRecord[]): string {
  const lines = ['```mermaid', 'gantt', '  title Deploy timeline', '  dateFormat x', '  axisFormat %M:%S'];
  const hosts = [...new Set(phases.map((p) => p.host))];
  for (const host of hosts) {
    lines.push(`  section ${label(host)}`);
    for (const phase of phases.filter((p) => p.host === host && p.status !== 'skipped')) {
      const tag = phase.status === 'failed' ? 'crit, ' : '';
      lines.push(`  ${label(phase.name)} : ${tag}${phase.startMs}, ${Math.max(1, phase.durationMs)}ms`);
    }
  }
  lines.push('```');
  return lines.join('\n');
}

/** How the reader knows the release: Heroku's version numbers (v42) rather than its release ids, else the id. */
function releaseName(report: DeployReport): string | undefined {
  if (report.releaseVersion)
    return report.releaseVersion
      .split(',')
      .map((v) => (v ? `v${v}` : '?'))
      .join(', ');
  return report.releaseId;
}

export function renderSummary(report: DeployReport): string {
  const verb = report.mode === 'rollback' ? 'Rollback' : 'Deploy';
  const name = releaseName(report);
  const headline =
    report.headline ??
    (report.ok
      ? `${verb} of \`${name ?? '?'}\` succeeded`
      : report.rolledBack
        ? `${verb} of \`${name ?? '?'}\` failed and was rolled back`
        : `${verb}${name ? ` of \`${name}\`` : ''} failed`);
  const lines = [`## ${report.ok ? '✅' : '❌'} ${headline}`, ''];
  const facts: [string, string][] = [['Target', report.target]];
  if (report.commit) facts.push(['Commit', `\`${report.commit.slice(0, 12)}\``]);
  if (report.previousReleaseId) facts.push(['Previous release', `\`${report.previousReleaseId}\``]);
  if (report.previousReleaseVersion) facts.push(['Previous release version', `\`${report.previousReleaseVersion}\``]);
  if (report.buildId) facts.push(['Build', `\`${report.buildId}\``]);
  if (report.rejectedReleaseVersion) facts.push(['Rejected release', `\`${report.rejectedReleaseVersion}\``]);
  for (const [host, release] of Object.entries(report.serving)) facts.push([`Serving on ${host}`, `\`${release}\``]);
  if (report.database) facts.push(['Database', report.database]);
  if (report.backupPath) facts.push(['Pre-migration backup', `\`${report.backupPath}\``]);
  if (report.backupSizeBytes !== undefined) facts.push(['Backup size', `${report.backupSizeBytes} bytes`]);
  if (report.backupSha256) facts.push(['Backup sha256', `\`${report.backupSha256}\``]);
  if (report.url) facts.push(['URL', report.url]);
  facts.push(['Duration', `${(report.durationMs / 1000).toFixed(1)} s`]);
  lines.push('| | |', '| --- | --- |', ...facts.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), '');
  if (report.error) lines.push(`**Why it failed:** ${report.error}`, '');
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');

  lines.push('### Phases', '', '| Phase | Host | Status | Duration | Detail |', '| --- | --- | --- | ---: | --- |');
  for (const phase of report.phases) {
    lines.push(
      `| ${cell(phase.name)} | ${cell(phase.host)} | ${ICONS[phase.status]} | ${phase.durationMs} ms | ${cell(phase.detail ?? '')} |`,
    );
  }
  lines.push('', mermaidTimeline(report.phases), '');
  if (report.migrations?.length) {
    lines.push(
      '### Pending migrations',
      '',
      `Maintenance: ${report.maintenance?.on ? 'on' : 'off'} (${report.maintenance?.why ?? ''}).`,
      '',
      '| Migration | Operation | Verdict | Why |',
      '| --- | --- | --- | --- |',
      ...report.migrations.map(
        (m) =>
          `| ${cell(m.migration)} | ${cell(`${m.operation}: ${m.description}`)} | ${m.verdict === 'safe' ? '✅ safe' : '⚠️ breaking'} | ${cell(m.reason)} |`,
      ),
      '',
    );
  }
  if (report.restoreCommand) {
    lines.push(
      '<details><summary>Restore the pre-migration backup</summary>',
      '',
      'Migrations are not reversed automatically. If the database must go back to its state before this deploy:',
      '',
      '```yaml',
      report.restoreCommand,
      '```',
      '',
      '</details>',
      '',
    );
  }
  return lines.join('\n');
}
