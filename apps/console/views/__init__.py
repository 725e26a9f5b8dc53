"""The Console's pages: thin views over objectql, apps.schema, apps.audit and apps.jobs."""
