// Posts the preview report of one environment as a pull request comment, or updates the comment
// that an earlier run posted for the same environment: one comment per environment, found by a
// hidden marker.  Called from actions/github-script:
//
//   const stickyComment = require('./.github/scripts/sticky-comment.js');
//   await stickyComment({github, context, core}, {environment, reportFile, exitCode, runUrl, artifactUrl});
//
// artifactUrl: where the full report is (actions/upload-artifact's artifact-url output); a report
// longer than a comment is cut at a section boundary and links to it.
//
// exitCode is the exit code of `secrets-layout preview`: 0 no mandatory violation, 1 mandatory
// violation or invalid declaration (the report says which), anything else: the preview did not run.
'use strict';

const fs = require('node:fs');

// GitHub refuses comment bodies over 65536 characters.
const MAX_BODY = 65536;

function marker(environment) {
  return `<!-- secrets-layout-preview: ${environment} -->`;
}

function readReport(reportFile) {
  try {
    return fs.readFileSync(reportFile, 'utf8').trim();
  } catch (error) {
    if (error.code === 'ENOENT') return '';
    throw error;
  }
}

// Where a report may be cut: before a heading, or before a <details> block that has no heading of
// its own, when neither is inside another <details> block (a cut inside one would leave it open
// and swallow the rest of the comment).
function sectionStarts(lines) {
  const starts = [];
  let depth = 0;
  let offset = 0;
  let previous = '';
  for (const line of lines) {
    const heading = /^#{1,6} /.test(line);
    const block = line.startsWith('<details>') && !/^#{1,6} /.test(previous);
    if (depth === 0 && (heading || block)) starts.push(offset);
    depth += (line.match(/<details>/g) || []).length - (line.match(/<\/details>/g) || []).length;
    depth = Math.max(depth, 0);
    offset += line.length + 1;
    if (line.trim()) previous = line;
  }
  return starts;
}

// The report cut to `room` characters at a section boundary. When the sections that fit would keep
// less than half the room (one section, e.g. a table of thousands of changes, is most of the
// report), that section is cut after a whole line instead and its open <details> blocks closed.
function shorten(report, room) {
  if (report.length <= room) return report;
  const lines = report.split('\n');
  const starts = sectionStarts(lines).filter((start) => start > 0 && start <= room);
  const lastFitting = starts.length ? starts[starts.length - 1] : 0;
  const firstHeading = sectionStarts(lines)[0] || 0;
  if (lastFitting > firstHeading && lastFitting >= room / 2) return report.slice(0, lastFitting).trimEnd();
  let kept = '';
  let depth = 0;
  for (const line of lines) {
    const after = Math.max(depth + (line.match(/<details>/g) || []).length - (line.match(/<\/details>/g) || []).length, 0);
    // the line, then a blank line and one "</details>" line per block still open
    if (kept.length + 1 + line.length + 2 + 11 * after > room) break;
    kept += (kept ? '\n' : '') + line;
    depth = after;
  }
  return kept.trimEnd() + '\n\n' + Array(depth).fill('</details>').join('\n');
}

function commentBody({ environment, report, exitCode, runUrl, sha, artifactUrl }) {
  const head = marker(environment);
  const declaration = `environments/${environment}.yaml`;
  const at = sha ? ` at ${sha.slice(0, 7)}` : '';
  const footer = `\n\n<sub>\`secrets-layout preview ${declaration}\`${at} · [workflow run](${runUrl})</sub>`;
  if (!report || (exitCode !== 0 && exitCode !== 1)) {
    return (
      `${head}\n### secrets-layout preview: \`${declaration}\`\n\n` +
      `:x: The preview did not produce a report (exit code ${exitCode}). ` +
      `The [workflow run](${runUrl}) log says why.` + footer
    );
  }
  const full = artifactUrl
    ? `the [\`preview-${environment}\` artifact](${artifactUrl}) of the [workflow run](${runUrl})`
    : `the \`preview-${environment}\` artifact of the [workflow run](${runUrl})`;
  const notice = (shown) =>
    `\n\n> :scissors: This report is longer than a comment can be (${MAX_BODY} characters): ` +
    `${shown} of its ${report.length} characters are shown. The full report is ${full}.`;
  const room = MAX_BODY - head.length - footer.length - notice(report.length).length - 2;
  const text = shorten(report, room);
  return `${head}\n${text}${text === report ? '' : notice(text.length)}${footer}`;
}

async function stickyComment({ github, context, core }, { environment, reportFile, exitCode, runUrl, artifactUrl }) {
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const sha = context.payload.pull_request ? context.payload.pull_request.head.sha : context.sha;
  const body = commentBody({ environment, report: readReport(reportFile), exitCode, runUrl, sha, artifactUrl });

  const comments = await github.paginate(github.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100,
  });
  const previous = comments.find(
    (comment) => comment.user && comment.user.type === 'Bot' && (comment.body || '').startsWith(marker(environment)),
  );
  if (previous) {
    const { data } = await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
    core.info(`updated ${data.html_url}`);
    return data;
  }
  const { data } = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  core.info(`posted ${data.html_url}`);
  return data;
}

module.exports = stickyComment;
module.exports.commentBody = commentBody;
module.exports.marker = marker;
module.exports.shorten = shorten;
module.exports.MAX_BODY = MAX_BODY;
