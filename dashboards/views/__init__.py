"""One module per page, UI only: each is a Streamlit page script run by the router after
login and the role check. Queries come from dashboards.queries through dashboards.ui.get."""
