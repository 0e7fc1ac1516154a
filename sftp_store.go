package sls

// SFTPStore keeps the tables of the sftp feature. Its methods are declared here
// as the feature grows; package sqlstore implements them on both engines
// and package storetest checks them.
type SFTPStore interface{}
