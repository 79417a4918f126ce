/** Where the API and the Better Auth server are; read at start-up from /config.json. */
export interface AppConfig {
  apiUrl: string;
  authUrl: string;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return (await response.json()) as AppConfig;
}
