/** Long variants (soak, bigger churn) run only with `SPOUT_LONG=1`. */
export const longRun = process.env.SPOUT_LONG === '1'
