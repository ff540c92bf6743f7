/** Test plans: `defineTestPlan()` and loading plan files. */
export {};
