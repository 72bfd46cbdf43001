export { dashboardPlugin, DASHBOARD_CSP, type DashboardOptions } from './plugin.js';
