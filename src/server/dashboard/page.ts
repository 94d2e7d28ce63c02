/** The live dashboard page (placeholder until the page lands). */
export function dashboardHtml(version: string): string {
  return `<!doctype html><title>dingkit ${version}</title>`;
}
