import type { Severity } from '../api';

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`sev sev-${severity}`}>{severity}</span>;
}

export const SEVERITY_COLORS: Record<Severity, string> = { low: '#6b9bd1', medium: '#e0b040', high: '#e07830', critical: '#d63c3c' };
export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
