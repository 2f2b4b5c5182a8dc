// What an empty list says: what is missing and what to do next.
import type { ComponentChildren } from "preact";

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state">
      <p class="empty-title">{title}</p>
      {children ? <div class="empty-hint">{children}</div> : null}
    </div>
  );
}
