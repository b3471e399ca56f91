/** The example app's own data: the projects it stores, each in a workspace. */
export interface Project {
  id: string;
  workspace: string;
  name: string;
}

export const projects: readonly Project[] = [
  { id: 'p-1', workspace: 'ws-1', name: 'Project 1' },
  { id: 'p-2', workspace: 'ws-1', name: 'Project 2' },
  { id: 'p-3', workspace: 'ws-2', name: 'Project 3' },
];

export const projectsIn = (workspace: string) => projects.filter((project) => project.workspace === workspace);

/** How fga-guard names one of the app's projects. */
export const asResource = (project: Project) => ({ type: 'project', externalId: project.id });
