/** A page whose API is not there yet: says so, and what it will show. */
export function NotYetPage({ what, issue }: { what: string; issue: string }) {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">{what}</h1>
      <p className="card muted">Not yet available: this server has no API for {issue}. The page comes with that API.</p>
    </section>
  );
}
