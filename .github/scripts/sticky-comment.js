// Posts the preview report of one environment as a pull request comment, or updates the comment
// that an earlier run posted for the same environment: one comment per environment, found by a
// hidden marker.  Called from actions/github-script:
//
//   const stickyComment = require('./.github/scripts/sticky-comment.js');
//   await stickyComment({github, context, core}, {environment, reportFile, exitCode, runUrl});
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

function commentBody({ environment, report, exitCode, runUrl, sha }) {
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
  const room = MAX_BODY - head.length - footer.length - 200;
  let text = report;
  if (text.length > room) {
    text =
      text.slice(0, room) +
      `\n\n… the report is longer than a comment can be; the full report is in the ` +
      `[workflow run](${runUrl})'s summary and its \`preview-${environment}\` artifact.`;
  }
  return `${head}\n${text}${footer}`;
}

async function stickyComment({ github, context, core }, { environment, reportFile, exitCode, runUrl }) {
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const sha = context.payload.pull_request ? context.payload.pull_request.head.sha : context.sha;
  const body = commentBody({ environment, report: readReport(reportFile), exitCode, runUrl, sha });

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
module.exports.MAX_BODY = MAX_BODY;
