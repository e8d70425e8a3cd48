/** HTML/XML escaping for text from data (alert titles, rule ids, feed titles: untrusted). */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in element content and in quoted attribute values (single or double quotes). */
export function escapeHtml(s: string): string {
  // Control characters other than tab and newline are not allowed in XML; drop them.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
