export function lintWorkflow(yaml: string, path: string): Promise<string[]>;
