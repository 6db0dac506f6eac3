import './base.css';
import './process.css';
