// One figure with its label, for the overview's top row.
export function StatCard({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div class="stat-card">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {detail ? <div class="stat-detail">{detail}</div> : null}
    </div>
  );
}
