/** Brand shared by every meph library error (Symbol.for, so it works across copies/realms). */
export const MEPH_ERROR: unique symbol = Symbol.for('meph.error') as never;
