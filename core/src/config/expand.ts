/**
 * Python's `os.path.expandvars`, which Feast runs over the whole feature_store.yaml text before
 * parsing: `$NAME` and `${NAME}` are replaced by the variable's value; unset variables are left
 * exactly as written.
 */
export function expandVars(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$(\w+|\{[^}]*\})/g, (match, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const value = env[key];
    return value === undefined ? match : value;
  });
}
