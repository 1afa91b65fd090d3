resource "google_container_cluster" "default" { # rampart-expect: tf-gcp-gke-public-nodes
  name               = "staging"
  location           = "europe-west1"
  initial_node_count = 1
}

resource "google_container_cluster" "explicit" {
  name               = "dev"
  location           = "europe-west1"
  initial_node_count = 1

  private_cluster_config {
    enable_private_nodes    = false # rampart-expect: tf-gcp-gke-public-nodes
    enable_private_endpoint = false
  }
}

resource "google_container_cluster" "endpoint_only" {
  name               = "ops"
  location           = "europe-west1"
  initial_node_count = 1

  private_cluster_config { # rampart-expect: tf-gcp-gke-public-nodes
    master_ipv4_cidr_block = "172.16.0.16/28"
  }
}
