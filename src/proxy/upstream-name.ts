/** How messages name the API a request went to: a Defender region, or Microsoft Graph (one global host). */
export function upstreamName (api: 'graph' | undefined, region: string): string {
  return api === 'graph' ? 'Microsoft Graph' : `Defender (region ${region})`
}
