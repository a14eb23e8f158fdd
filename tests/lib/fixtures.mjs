// Profile snapshots used by the browser and edge tests (the demo's clock is 2011-12-10).
export const XSS_NAME = '<img src=x onerror=alert(1)>';

export function lapsedProfile(firstName = 'Margaret', id = 'c-test-lapsed') {
  return {
    v: 1, id, consent: { personalization: true },
    traits: { first_name: firstName, loyalty_tier: 'gold' },
    orders: { count: 5, revenue: 4000, aov: 800, first: '2010-12-01T09:00:00Z', last: '2011-05-24T09:00:00Z' },
    segments: ['big_spender', 'lapsed'],
  };
}
