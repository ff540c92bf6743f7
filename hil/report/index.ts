/** The readable report: one self-contained `report.html`. */
export {};
