// A placeholder while the first answer is on its way.
export function Loading({ what }: { what: string }) {
  return (
    <div class="loading" aria-busy="true">
      <span class="spinner" /> Loading {what}…
    </div>
  );
}
